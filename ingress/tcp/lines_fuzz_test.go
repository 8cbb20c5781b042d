package tcp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"unicode/utf8"
)

// splitAll frames every complete message of buf.
func splitAll(buf []byte, framing, max int) (msgs [][]byte, consumed int, err error) {
	for consumed < len(buf) {
		msg, n, err := nextMessage(buf[consumed:], framing, max)
		if err != nil {
			return msgs, consumed, err
		}
		if n == 0 {
			break
		}
		if n < 0 || consumed+n > len(buf) {
			panic(fmt.Sprintf("nextMessage consumed %d of %d", n, len(buf)-consumed))
		}
		msgs = append(msgs, msg)
		consumed += n
	}
	return msgs, consumed, nil
}

// FuzzSyslogFraming: framing never consumes more than it has, messages
// stay within the maximum, octet-counted frames re-encode to what was
// consumed, and data arriving in two parts frames as it does in one.
func FuzzSyslogFraming(f *testing.F) {
	f.Add([]byte("12 <13>hello wo5 <1>ab"), uint16(64), uint16(7))
	f.Add([]byte("<13>Oct 11 22:14:15 h app: x\r\n\n<13>1 - h a - - - y\n"), uint16(64), uint16(30))
	f.Add([]byte("0 x"), uint16(64), uint16(1))
	f.Add([]byte("123456789 x"), uint16(1000), uint16(4))
	f.Add([]byte("99 short"), uint16(64), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, maxMsg, cut uint16) {
		max := int(maxMsg%2048) + 1
		if len(data) == 0 {
			return
		}
		framing := detectFraming(data[0])
		msgs, consumed, err := splitAll(data, framing, max)
		for _, m := range msgs {
			if len(m) > max {
				t.Fatalf("message of %d bytes, maximum %d", len(m), max)
			}
		}
		if framing == framingOctet {
			var re []byte
			for _, m := range msgs {
				re = fmt.Appendf(re, "%d %s", len(m), m)
			}
			if !bytes.Equal(re, data[:consumed]) {
				t.Fatalf("re-encoded %q, consumed %q", re, data[:consumed])
			}
		}
		// The event loop sees the bytes in parts: the first part, then the
		// leftover with the rest appended.
		k := int(cut) % (len(data) + 1)
		m1, c1, err1 := splitAll(data[:k], framing, max)
		if err1 != nil {
			if err == nil {
				t.Fatalf("part 1 fails (%v), the whole does not", err1)
			}
			return
		}
		m2, c2, err2 := splitAll(data[c1:], framing, max)
		if (err2 == nil) != (err == nil) || c1+c2 != consumed || len(m1)+len(m2) != len(msgs) {
			t.Fatalf("in parts: %d+%d messages, %d+%d bytes, err %v; whole: %d, %d, %v", len(m1), len(m2), c1, c2, err2, len(msgs), consumed, err)
		}
		for i, m := range append(m1, m2...) {
			if !bytes.Equal(m, msgs[i]) {
				t.Fatalf("message %d: %q in parts, %q whole", i, m, msgs[i])
			}
		}
	})
}

// FuzzParseSyslog: any message gives a valid partition key.
func FuzzParseSyslog(f *testing.F) {
	f.Add([]byte("<34>Oct 11 22:14:15 mymachine su: 'su root' failed"))
	f.Add([]byte("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [x] msg"))
	f.Add([]byte("<13>2024-01-01T00:00:00Z h tag[1]: m"))
	f.Add([]byte("<999"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		h := parseSyslog(msg)
		if len(h.Host) > len(msg) || len(h.App) > len(msg) {
			t.Fatalf("host %q app %q longer than the message", h.Host, h.App)
		}
		key := syslogKey(h)
		if n := utf8.RuneCountInString(key); n < 1 || n > 256 || !utf8.ValidString(key) {
			t.Fatalf("invalid partition key %q", key)
		}
	})
}

// FuzzNDJSON: a line is accepted only if it is one JSON object, and its
// key is a valid partition key.
func FuzzNDJSON(f *testing.F) {
	f.Add([]byte(`{"user":"alice","n":1}`), "user")
	f.Add([]byte(`{"user":42}`), "user")
	f.Add([]byte(`{"user":null}`), "user")
	f.Add([]byte(`[1]`), "")
	f.Add([]byte(`{"a":{"b":[1,2,{"c":"\u00e9"}]}}`), "a")
	f.Fuzz(func(t *testing.T, line []byte, field string) {
		key, err := ndjsonKey(line, field)
		if err != nil {
			return
		}
		t2 := bytes.TrimSpace(line)
		if !json.Valid(t2) || t2[0] != '{' {
			t.Fatalf("accepted %q", line)
		}
		if n := utf8.RuneCountInString(key); n < 1 || n > 256 || !utf8.ValidString(key) {
			t.Fatalf("invalid partition key %q", key)
		}
	})
}
