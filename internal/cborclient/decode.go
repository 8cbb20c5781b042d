package cborclient

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// maxDepth bounds the nesting of decoded values.
const maxDepth = 64

// Decode decodes one CBOR data item that must fill data. Maps become
// map[string]any (keys must be text), arrays []any, text string, bytes
// []byte (copied), unsigned integers int64 (uint64 above MaxInt64),
// negative integers int64, floats float64, tag 1 time.Time (integer:
// epoch milliseconds as AWS sends; float: epoch seconds), other tags their
// content, true/false bool, null and undefined nil.
func Decode(data []byte) (any, error) {
	d := decoder{data: data}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.off != len(data) {
		return nil, fmt.Errorf("cborclient: %d trailing bytes after the value at offset %d", len(data)-d.off, d.off)
	}
	return v, nil
}

var errBreak = errors.New("cborclient: unexpected break")

type decoder struct {
	data []byte
	off  int
}

func (d *decoder) errf(format string, args ...any) error {
	return fmt.Errorf("cborclient: offset %d: "+format, append([]any{d.off}, args...)...)
}

// head reads an initial byte and its argument. indefinite is set for
// additional information 31.
func (d *decoder) head() (major, info byte, arg uint64, indefinite bool, err error) {
	if d.off >= len(d.data) {
		return 0, 0, 0, false, d.errf("unexpected end of data")
	}
	b := d.data[d.off]
	d.off++
	major, info = b>>5, b&31
	switch {
	case info < 24:
		return major, info, uint64(info), false, nil
	case info <= 27:
		n := 1 << (info - 24)
		if len(d.data)-d.off < n {
			return 0, 0, 0, false, d.errf("unexpected end of data in a %d-byte argument", n)
		}
		for _, c := range d.data[d.off : d.off+n] {
			arg = arg<<8 | uint64(c)
		}
		d.off += n
		return major, info, arg, false, nil
	case info == 31:
		return major, info, 0, true, nil
	default:
		return 0, 0, 0, false, d.errf("reserved additional information %d", info)
	}
}

func (d *decoder) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, d.errf("nesting deeper than %d", maxDepth)
	}
	major, info, arg, indef, err := d.head()
	if err != nil {
		return nil, err
	}
	switch major {
	case 0:
		if indef {
			return nil, d.errf("indefinite integer")
		}
		if arg > math.MaxInt64 {
			return arg, nil
		}
		return int64(arg), nil
	case 1:
		if indef {
			return nil, d.errf("indefinite integer")
		}
		if arg > math.MaxInt64 {
			return nil, d.errf("negative integer -1-%d overflows int64", arg)
		}
		return -1 - int64(arg), nil
	case 2, 3:
		b, err := d.bytes(major, arg, indef)
		if err != nil {
			return nil, err
		}
		if major == 3 {
			return string(b), nil
		}
		return b, nil
	case 4:
		if !indef && arg > uint64(len(d.data)-d.off) {
			return nil, d.errf("array of %d elements longer than the data", arg)
		}
		out := []any{}
		for i := uint64(0); indef || i < arg; i++ {
			v, err := d.value(depth + 1)
			if err == errBreak && indef {
				return out, nil
			}
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case 5:
		out := map[string]any{}
		if !indef && arg > uint64(len(d.data)-d.off)/2 {
			return nil, d.errf("map of %d pairs longer than the data", arg)
		}
		for i := uint64(0); indef || i < arg; i++ {
			k, err := d.value(depth + 1)
			if err == errBreak && indef {
				return out, nil
			}
			if err != nil {
				return nil, err
			}
			key, ok := k.(string)
			if !ok {
				return nil, d.errf("map key of type %T, want text", k)
			}
			v, err := d.value(depth + 1)
			if err != nil {
				if err == errBreak {
					return nil, d.errf("break after map key %q", key)
				}
				return nil, err
			}
			out[key] = v
		}
		return out, nil
	case 6:
		if indef {
			return nil, d.errf("indefinite tag")
		}
		v, err := d.value(depth + 1)
		if err != nil {
			if err == errBreak {
				return nil, d.errf("break after tag %d", arg)
			}
			return nil, err
		}
		if arg != 1 {
			return v, nil
		}
		switch t := v.(type) {
		case int64:
			return time.UnixMilli(t).UTC(), nil
		case float64:
			sec, frac := math.Modf(t)
			return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
		default:
			return nil, d.errf("tag 1 on a %T", v)
		}
	default: // 7
		switch {
		case indef:
			return nil, errBreak
		case info == 20:
			return false, nil
		case info == 21:
			return true, nil
		case info == 22 || info == 23:
			return nil, nil
		case info == 25:
			return halfToFloat(uint16(arg)), nil
		case info == 26:
			return float64(math.Float32frombits(uint32(arg))), nil
		case info == 27:
			return math.Float64frombits(arg), nil
		default:
			return nil, d.errf("unsupported simple value %d", arg)
		}
	}
}

// bytes reads a byte or text string of major type major (2 or 3),
// definite or chunked.
func (d *decoder) bytes(major byte, n uint64, indef bool) ([]byte, error) {
	if !indef {
		if n > uint64(len(d.data)-d.off) {
			return nil, d.errf("string of %d bytes longer than the data", n)
		}
		b := append([]byte(nil), d.data[d.off:d.off+int(n)]...)
		d.off += int(n)
		return b, nil
	}
	out := []byte{}
	for {
		m, info, arg, chunkIndef, err := d.head()
		if err != nil {
			return nil, err
		}
		if m == 7 && info == 31 {
			return out, nil
		}
		if m != major || chunkIndef {
			return nil, d.errf("bad chunk of major type %d in an indefinite string of type %d", m, major)
		}
		if arg > uint64(len(d.data)-d.off) {
			return nil, d.errf("chunk of %d bytes longer than the data", arg)
		}
		out = append(out, d.data[d.off:d.off+int(arg)]...)
		d.off += int(arg)
	}
}

func halfToFloat(h uint16) float64 {
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	var v float64
	switch exp {
	case 0:
		v = math.Ldexp(mant, -24)
	case 31:
		if mant == 0 {
			v = math.Inf(1)
		} else {
			v = math.NaN()
		}
	default:
		v = math.Ldexp(mant+1024, exp-25)
	}
	if h&0x8000 != 0 {
		return -v
	}
	return v
}
