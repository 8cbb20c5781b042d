package sigv4

import (
	"fmt"
	"strings"
)

// ParseCredentialsFile parses a credentials file into access key id ->
// secret. It accepts the AWS shared-credentials INI format (an
// aws_access_key_id and an aws_secret_access_key under each [profile];
// other keys such as aws_session_token or region are ignored) and plain
// "ACCESS_KEY_ID:SECRET" lines, mixed. Blank lines and lines starting with
// "#" or ";" are comments. An access key id listed twice with different
// secrets is an error.
func ParseCredentialsFile(data []byte) (map[string]string, error) {
	out := make(map[string]string)
	type profile struct {
		name, id, secret string
		line             int
	}
	var cur *profile
	flush := func() error {
		if cur == nil || (cur.id == "" && cur.secret == "") {
			return nil
		}
		if cur.id == "" || cur.secret == "" {
			return fmt.Errorf("sigv4: credentials profile [%s] at line %d needs both aws_access_key_id and aws_secret_access_key", cur.name, cur.line)
		}
		return add(out, cur.id, cur.secret, cur.line)
	}
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("sigv4: credentials line %d: unterminated section header %q", n, line)
			}
			if err := flush(); err != nil {
				return nil, err
			}
			cur = &profile{name: strings.TrimSpace(line[1 : len(line)-1]), line: n}
			continue
		}
		if key, value, ok := strings.Cut(line, "="); ok {
			if cur == nil {
				return nil, fmt.Errorf("sigv4: credentials line %d: %q outside a [profile] section", n, strings.TrimSpace(key))
			}
			switch strings.ToLower(strings.TrimSpace(key)) {
			case "aws_access_key_id":
				cur.id = strings.TrimSpace(value)
			case "aws_secret_access_key":
				cur.secret = strings.TrimSpace(value)
			}
			continue
		}
		id, secret, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("sigv4: credentials line %d: want ACCESS_KEY_ID:SECRET, key = value or [profile]", n)
		}
		if err := add(out, strings.TrimSpace(id), strings.TrimSpace(secret), n); err != nil {
			return nil, err
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// ParseCredentialsEnv parses "AKID:SECRET,AKID2:SECRET2" (the form of an
// environment variable) into access key id -> secret. Spaces around items
// are ignored; empty items are skipped.
func ParseCredentialsEnv(s string) (map[string]string, error) {
	out := make(map[string]string)
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, secret, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("sigv4: credentials item %d: want ACCESS_KEY_ID:SECRET", i+1)
		}
		if err := add(out, strings.TrimSpace(id), strings.TrimSpace(secret), i+1); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func add(m map[string]string, id, secret string, where int) error {
	if id == "" || secret == "" {
		return fmt.Errorf("sigv4: credentials entry %d: empty access key id or secret", where)
	}
	if strings.ContainsAny(id, "/ \t") {
		return fmt.Errorf("sigv4: credentials entry %d: access key id %q contains a slash or a space", where, id)
	}
	if old, ok := m[id]; ok && old != secret {
		return fmt.Errorf("sigv4: credentials entry %d: access key id %q listed twice with different secrets", where, id)
	}
	m[id] = secret
	return nil
}
