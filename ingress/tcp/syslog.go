package tcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Framing of a line listener's connection (RFC 6587), detected from its
// first byte.
const (
	framingUnknown = iota
	framingOctet   // "MSG-LEN SP SYSLOG-MSG"
	framingLF      // messages end with LF (non-transparent framing)
)

// maxLenDigits is the most digits an octet count may have: enough for any
// MaxMessageBytes (at most 1 MiB, 7 digits).
const maxLenDigits = 8

// Framing errors; each closes the connection.
var (
	errBadOctetCount = errors.New("octet-counting frame: MSG-LEN is not 1 to 8 digits followed by a space")
	errTooLong       = errors.New("message longer than the maximum message size")
)

// detectFraming picks the framing from a connection's first byte: a digit
// starts an octet count, anything else (normally '<') LF framing. NDJSON
// listeners always use LF framing.
func detectFraming(first byte) int {
	if first >= '1' && first <= '9' {
		return framingOctet
	}
	return framingLF
}

// nextMessage splits the first message off buf. It returns the message
// (aliasing buf, without framing), the bytes consumed, or n == 0 when buf
// holds no complete message yet. max is checked before a message is
// complete: an octet count above max, or more than max bytes without an
// LF, is errTooLong. LF framing drops a CR before the LF; empty lines come
// back as empty messages (the caller skips them).
func nextMessage(buf []byte, framing, max int) (msg []byte, n int, err error) {
	switch framing {
	case framingOctet:
		i := 0
		for i < len(buf) && i < maxLenDigits && buf[i] >= '0' && buf[i] <= '9' {
			i++
		}
		if i == len(buf) {
			return nil, 0, nil // need more digits
		}
		if i == 0 || buf[i] != ' ' || buf[0] == '0' {
			return nil, 0, errBadOctetCount
		}
		size, _ := strconv.Atoi(string(buf[:i]))
		if size > max {
			return nil, 0, fmt.Errorf("%w: octet count %d, maximum %d", errTooLong, size, max)
		}
		if len(buf) < i+1+size {
			return nil, 0, nil
		}
		return buf[i+1 : i+1+size], i + 1 + size, nil
	default:
		j := bytes.IndexByte(buf, '\n')
		if j < 0 {
			// A line of max bytes may still get its CR before the LF.
			if len(buf) > max+1 || (len(buf) == max+1 && buf[max] != '\r') {
				return nil, 0, fmt.Errorf("%w: %d bytes without a line feed, maximum %d", errTooLong, len(buf), max)
			}
			return nil, 0, nil
		}
		msg = buf[:j]
		if len(msg) > 0 && msg[len(msg)-1] == '\r' {
			msg = msg[:len(msg)-1]
		}
		if len(msg) > max {
			return nil, 0, fmt.Errorf("%w: %d bytes, maximum %d", errTooLong, len(msg), max)
		}
		return msg, j + 1, nil
	}
}

// syslogHeader is what the partition key needs of a syslog message.
type syslogHeader struct {
	Host, App string
	RFC5424   bool
}

// parseSyslog extracts the hostname and the app-name (RFC 5424) or tag
// (RFC 3164) of msg. It never fails: what it cannot find stays empty.
func parseSyslog(msg []byte) syslogHeader {
	var h syslogHeader
	rest := msg
	if len(rest) > 0 && rest[0] == '<' {
		j := bytes.IndexByte(rest[:min(len(rest), 5)], '>')
		if j > 1 && allDigits(rest[1:j]) {
			rest = rest[j+1:]
		}
	}
	// RFC 5424: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP ...
	if len(rest) >= 2 && rest[0] >= '1' && rest[0] <= '9' {
		v := 1
		for v < len(rest) && v < 3 && rest[v] >= '0' && rest[v] <= '9' {
			v++
		}
		if v < len(rest) && rest[v] == ' ' {
			f := fields(rest[v+1:], 3)
			h.RFC5424 = true
			if len(f) > 1 {
				h.Host = nilValue(f[1])
			}
			if len(f) > 2 {
				h.App = nilValue(f[2])
			}
			return h
		}
	}
	// RFC 3164: TIMESTAMP SP HOSTNAME SP TAG[PID]: MSG. The timestamp is
	// "Mmm dd hh:mm:ss" or, from many senders, an RFC 3339 one.
	switch {
	case len(rest) >= 16 && isBSDTimestamp(rest[:15]) && rest[15] == ' ':
		rest = rest[16:]
	case len(rest) >= 11 && allDigits(rest[:4]) && rest[4] == '-':
		sp := bytes.IndexByte(rest, ' ')
		if sp < 0 {
			return h
		}
		rest = rest[sp+1:]
	default:
		// No timestamp: no hostname either (RFC 3164 section 4.3.3); the
		// first word is the tag.
		h.App = tag(rest)
		return h
	}
	f := fields(rest, 2)
	if len(f) > 0 {
		h.Host = string(f[0])
	}
	if len(f) > 1 {
		h.App = tag(f[1])
	}
	return h
}

// tag is a 3164 TAG: the word up to '[', ':' or a space.
func tag(b []byte) string {
	for i, c := range b {
		if c == '[' || c == ':' || c == ' ' {
			return string(b[:i])
		}
	}
	return string(b)
}

// fields returns the first n space-separated words of b.
func fields(b []byte, n int) [][]byte {
	var out [][]byte
	for len(out) < n && len(b) > 0 {
		sp := bytes.IndexByte(b, ' ')
		if sp < 0 {
			out = append(out, b)
			break
		}
		out = append(out, b[:sp])
		b = b[sp+1:]
	}
	return out
}

func nilValue(b []byte) string {
	if string(b) == "-" {
		return ""
	}
	return string(b)
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// isBSDTimestamp matches "Mmm dd hh:mm:ss" (the day space-padded).
func isBSDTimestamp(b []byte) bool {
	if len(b) != 15 || b[3] != ' ' || b[6] != ' ' || b[9] != ':' || b[12] != ':' {
		return false
	}
	if !strings.Contains("JanFebMarAprMayJunJulAugSepOctNovDec", string(b[:3])) {
		return false
	}
	return (b[4] == ' ' || (b[4] >= '0' && b[4] <= '3')) && b[5] >= '0' && b[5] <= '9' &&
		allDigits(b[7:9]) && allDigits(b[10:12]) && allDigits(b[13:15])
}

// syslogKey is the partition key "host/app" of a message; a missing part
// is "-".
func syslogKey(h syslogHeader) string {
	host, app := h.Host, h.App
	if host == "" {
		host = "-"
	}
	if app == "" {
		app = "-"
	}
	return partitionKey(host + "/" + app)
}

// partitionKey makes s a valid partition key: valid UTF-8, at most 256
// characters.
func partitionKey(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= 256 {
		return s
	}
	n := 0
	for i := range s {
		if n == 256 {
			return s[:i]
		}
		n++
	}
	return s
}

// errNotObject is a NDJSON line that is not one JSON object.
var errNotObject = errors.New("the line is not a JSON object")

// ndjsonKey checks that line is one JSON object and returns its partition
// key: the value of field (a string as is, another value as its JSON
// text) when field is set and present, else the hex FNV-1a hash of the
// line.
func ndjsonKey(line []byte, field string) (string, error) {
	t := bytes.TrimSpace(line)
	if len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return "", errNotObject
	}
	if field != "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(t, &obj); err != nil {
			return "", errNotObject
		}
		if v, ok := obj[field]; ok {
			var s string
			if json.Unmarshal(v, &s) == nil {
				if s != "" {
					return partitionKey(s), nil
				}
			} else if string(v) != "null" {
				return partitionKey(string(v)), nil
			}
		}
	}
	f := fnv.New64a()
	_, _ = f.Write(line)
	return strconv.FormatUint(f.Sum64(), 16), nil
}
