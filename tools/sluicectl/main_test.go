package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// sluicectl runs the CLI with args and returns its exit code and output.
func sluicectl(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestSluicectlUsage(t *testing.T) {
	dir := t.TempDir()
	f := func(wantCode int, wantStderr string, args ...string) {
		t.Helper()
		code, stdout, stderr := sluicectl(t, args...)
		if code != wantCode {
			t.Fatalf("sluicectl %q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, wantCode, stdout, stderr)
		}
		if wantCode == exitUsage {
			if !strings.Contains(stderr, "usage: sluicectl") || !strings.Contains(stderr, wantStderr) {
				t.Fatalf("sluicectl %q: stderr lacks the usage text or %q:\n%s", args, wantStderr, stderr)
			}
			if stdout != "" {
				t.Fatalf("sluicectl %q: usage error wrote to stdout:\n%s", args, stdout)
			}
		}
	}
	f(exitUsage, "no command given")
	f(exitUsage, `unknown command "frobnicate"`, "frobnicate")
	f(exitUsage, "no subcommand", "segment")
	f(exitUsage, `unknown subcommand "fix"`, "segment", "fix", dir)
	f(exitUsage, "no DIR given", "segment", "inspect")
	f(exitUsage, "no DIR given", "segment", "verify", "--json")
	f(exitUsage, "no DIR given", "segment", "repair")
	f(exitUsage, "flag provided but not defined: -force", "segment", "repair", "--force", dir)
	f(exitUsage, "flag provided but not defined: -x", "segment", "verify", dir, "-x")
	f(exitOK, "", "help")
	f(exitOK, "", "--help")
	f(exitOK, "", "segment", "verify", "-h")
}

func TestSluicectlParseArgs(t *testing.T) {
	f := func(args []string, wantJSON bool, wantPositional ...string) {
		t.Helper()
		fs := newFlagSet("test")
		jsonOut := fs.Bool("json", false, "")
		got, err := parseArgs(fs, args)
		if err != nil {
			t.Fatalf("parseArgs(%q): %v", args, err)
		}
		if *jsonOut != wantJSON || strings.Join(got, "|") != strings.Join(wantPositional, "|") {
			t.Fatalf("parseArgs(%q) = %q, json=%v; want %q, json=%v", args, got, *jsonOut, wantPositional, wantJSON)
		}
	}
	f(nil, false)
	f([]string{"a", "b"}, false, "a", "b")
	f([]string{"--json", "a", "b"}, true, "a", "b")
	f([]string{"a", "--json", "b"}, true, "a", "b")
	f([]string{"a", "b", "-json"}, true, "a", "b")
	f([]string{"a", "--", "--json", "-x"}, false, "a", "--json", "-x")
}
