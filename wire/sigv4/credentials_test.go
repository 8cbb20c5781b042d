package sigv4

import (
	"maps"
	"strings"
	"testing"
)

func TestWireSigV4CredentialsFile(t *testing.T) {
	f := func(in string, want map[string]string) {
		t.Helper()
		got, err := ParseCredentialsFile([]byte(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if !maps.Equal(got, want) {
			t.Fatalf("%q: got %v, want %v", in, got, want)
		}
	}
	f("", map[string]string{})
	f(`# shared credentials file
[default]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
aws_session_token = ignored
region = us-east-1

[profile other]
; comment
AWS_SECRET_ACCESS_KEY=s2
AWS_ACCESS_KEY_ID=K2
`, map[string]string{"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "K2": "s2"})
	f("K1:s1\r\n  K2 : s2/+x \nK1:s1\n", map[string]string{"K1": "s1", "K2": "s2/+x"})
	f("K1:s1\n[p]\naws_access_key_id=K2\naws_secret_access_key=s2\n[empty]\nregion=x\n", map[string]string{"K1": "s1", "K2": "s2"})

	bad := func(in, wantErr string) {
		t.Helper()
		_, err := ParseCredentialsFile([]byte(in))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("%q: got %v, want error containing %q", in, err, wantErr)
		}
	}
	bad("[p]\naws_access_key_id=K\n", "needs both")
	bad("aws_access_key_id=K\n", "outside a [profile]")
	bad("[p\n", "unterminated")
	bad("justaword\n", "want ACCESS_KEY_ID:SECRET")
	bad("K:s1\nK:s2\n", "different secrets")
	bad(":s\n", "empty")
	bad("a/b:s\n", "slash")
}

func TestWireSigV4CredentialsEnv(t *testing.T) {
	got, err := ParseCredentialsEnv(" K1:s1, K2:s2:with:colons ,,")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"K1": "s1", "K2": "s2:with:colons"}; !maps.Equal(got, want) {
		t.Fatalf("got %v", got)
	}
	for _, in := range []string{"K1", "K1:", "K:a,K:b"} {
		if _, err := ParseCredentialsEnv(in); err == nil {
			t.Fatalf("%q: no error", in)
		}
	}
}
