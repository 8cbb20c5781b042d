package kinesis

import "math"

// node is one decoded value of a JSON or CBOR body, before it is checked
// against the model. Strings and bytes are copies: a node never aliases
// the body.
type node struct {
	k     kind
	str   string  // kString; JSON number text for kNumber from JSON
	bytes []byte  // kBytes
	i     int64   // kInt
	f     float64 // kFloat, and kNumber from JSON
	b     bool    // kBool
	arr   []node  // kArray
	keys  []string
	vals  []node // kMap, parallel to keys
	// tag1 is set when a CBOR tag 1 preceded the value.
	tag1 bool
}

type kind uint8

const (
	kNull kind = iota
	kBool
	kInt    // CBOR integer that fits int64
	kBigInt // CBOR integer outside int64
	kFloat  // CBOR float
	kNumber // JSON number: str is its text, f its value
	kString
	kBytes
	kArray
	kMap
)

// get returns the first value of key in a map node, or nil.
func (n *node) get(key string) *node {
	for i, k := range n.keys {
		if k == key {
			return &n.vals[i]
		}
	}
	return nil
}

// maxDepth bounds the nesting of decoded bodies (the model nests 4 deep).
const maxDepth = 32

// cborReader decodes CBOR (RFC 8949) items with definite or indefinite
// lengths from b.
type cborReader struct {
	b   []byte
	off int
}

func errCBOR() *Error { return Serialization("") } // [unsure] AWS text for malformed CBOR

// head reads an item head: major type, additional info, argument.
func (r *cborReader) head() (major byte, ai byte, arg uint64, e *Error) {
	if r.off >= len(r.b) {
		return 0, 0, 0, errCBOR()
	}
	ib := r.b[r.off]
	r.off++
	major, ai = ib>>5, ib&31
	var n int
	switch {
	case ai < 24:
		return major, ai, uint64(ai), nil
	case ai == 24:
		n = 1
	case ai == 25:
		n = 2
	case ai == 26:
		n = 4
	case ai == 27:
		n = 8
	case ai == 31:
		return major, ai, 0, nil
	default:
		return 0, 0, 0, errCBOR()
	}
	if len(r.b)-r.off < n {
		return 0, 0, 0, errCBOR()
	}
	for i := 0; i < n; i++ {
		arg = arg<<8 | uint64(r.b[r.off+i])
	}
	r.off += n
	return major, ai, arg, nil
}

func (r *cborReader) isBreak() bool {
	return r.off < len(r.b) && r.b[r.off] == 0xff
}

// chunks reads a definite or indefinite byte or text string.
func (r *cborReader) chunks(major, ai byte, arg uint64) ([]byte, *Error) {
	if ai != 31 {
		if arg > uint64(len(r.b)-r.off) {
			return nil, errCBOR()
		}
		out := append([]byte(nil), r.b[r.off:r.off+int(arg)]...)
		r.off += int(arg)
		return out, nil
	}
	out := []byte{}
	for {
		if r.isBreak() {
			r.off++
			return out, nil
		}
		m, cai, n, e := r.head()
		if e != nil {
			return nil, e
		}
		if m != major || cai == 31 || n > uint64(len(r.b)-r.off) {
			return nil, errCBOR()
		}
		out = append(out, r.b[r.off:r.off+int(n)]...)
		r.off += int(n)
	}
}

// value decodes one item.
func (r *cborReader) value(depth int) (node, *Error) {
	if depth > maxDepth {
		return node{}, errCBOR()
	}
	major, ai, arg, e := r.head()
	if e != nil {
		return node{}, e
	}
	if ai == 31 && (major == 0 || major == 1 || major == 6) {
		return node{}, errCBOR()
	}
	switch major {
	case 0:
		if arg > math.MaxInt64 {
			return node{k: kBigInt, f: float64(arg)}, nil
		}
		return node{k: kInt, i: int64(arg)}, nil
	case 1:
		if arg > math.MaxInt64 {
			return node{k: kBigInt, f: -1 - float64(arg)}, nil
		}
		return node{k: kInt, i: -1 - int64(arg)}, nil
	case 2, 3:
		b, e := r.chunks(major, ai, arg)
		if e != nil {
			return node{}, e
		}
		if major == 2 {
			return node{k: kBytes, bytes: b}, nil
		}
		return node{k: kString, str: string(b)}, nil
	case 4:
		if ai != 31 && arg > uint64(len(r.b)-r.off) {
			return node{}, errCBOR() // each item takes at least one byte
		}
		n := node{k: kArray, arr: []node{}}
		for i := uint64(0); ai == 31 || i < arg; i++ {
			if ai == 31 && r.isBreak() {
				r.off++
				break
			}
			v, e := r.value(depth + 1)
			if e != nil {
				return node{}, e
			}
			n.arr = append(n.arr, v)
		}
		return n, nil
	case 5:
		if ai != 31 && arg > uint64(len(r.b)-r.off)/2 {
			return node{}, errCBOR() // each pair takes at least two bytes
		}
		n := node{k: kMap}
		for i := uint64(0); ai == 31 || i < arg; i++ {
			if ai == 31 && r.isBreak() {
				r.off++
				break
			}
			k, e := r.value(depth + 1)
			if e != nil {
				return node{}, e
			}
			v, e := r.value(depth + 1)
			if e != nil {
				return node{}, e
			}
			if k.k != kString {
				// Every map of the API has text keys. [unsure] AWS's text.
				return node{}, errCBOR()
			}
			n.keys = append(n.keys, k.str)
			n.vals = append(n.vals, v)
		}
		return n, nil
	case 6:
		v, e := r.value(depth + 1)
		if e != nil {
			return node{}, e
		}
		if arg == 1 {
			v.tag1 = true
		}
		return v, nil
	default: // 7
		switch ai {
		case 20:
			return node{k: kBool}, nil
		case 21:
			return node{k: kBool, b: true}, nil
		case 22, 23:
			return node{k: kNull}, nil
		case 25:
			return node{k: kFloat, f: halfFloat(uint16(arg))}, nil
		case 26:
			return node{k: kFloat, f: float64(math.Float32frombits(uint32(arg)))}, nil
		case 27:
			return node{k: kFloat, f: math.Float64frombits(arg)}, nil
		}
		return node{}, errCBOR()
	}
}

// parseCBOR decodes body, which must hold exactly one item.
func parseCBOR(body []byte) (node, *Error) {
	if len(body) == 0 {
		return node{}, Serialization("")
	}
	r := cborReader{b: body}
	n, e := r.value(0)
	if e != nil {
		return node{}, e
	}
	if r.off != len(body) {
		return node{}, errCBOR()
	}
	return n, nil
}

// CBOR encoding helpers.

func appendCBORHead(dst []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(dst, m|byte(n))
	case n <= math.MaxUint8:
		return append(dst, m|24, byte(n))
	case n <= math.MaxUint16:
		return append(dst, m|25, byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		return append(dst, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendCBORInt(dst []byte, v int64) []byte {
	if v < 0 {
		return appendCBORHead(dst, 1, uint64(-1-v))
	}
	return appendCBORHead(dst, 0, uint64(v))
}

func appendCBORText(dst []byte, s string) []byte {
	dst = appendCBORHead(dst, 3, uint64(len(s)))
	return append(dst, s...)
}

func appendCBORBytes(dst []byte, b []byte) []byte {
	dst = appendCBORHead(dst, 2, uint64(len(b)))
	return append(dst, b...)
}

func appendCBORBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 0xf5)
	}
	return append(dst, 0xf4)
}

// appendCBORTimestamp appends tag 1 followed by the integer milliseconds,
// e.g. c1 1b 000001a013accc38 (KINESIS_API.md 1.3).
func appendCBORTimestamp(dst []byte, millis int64) []byte {
	return appendCBORInt(append(dst, 0xc1), millis)
}

// halfFloat converts an IEEE 754 half-precision value.
func halfFloat(h uint16) float64 {
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
		v = -v
	}
	return v
}
