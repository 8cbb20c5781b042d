package kinesis

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/fxamacker/cbor/v2"
)

// This file checks DecodeInput against every constraint of the model. The
// test reads the model JSON itself (not through LoadModel) and builds the
// expected messages from the constraints, so it does not trust the code
// under test's view of the model or its formatter.

type tShape struct {
	Type     string
	Members  map[string]struct{ Shape string }
	Required []string
	Member   *struct{ Shape string }
	Key      *struct{ Shape string }
	Value    *struct{ Shape string }
	Min, Max *int64
	Pattern  string
	Enum     []string
}

type tModel struct {
	Operations map[string]struct{ Input *struct{ Shape string } }
	Shapes     map[string]*tShape
}

func loadTestModel(t testing.TB) *tModel {
	var m tModel
	if err := json.Unmarshal(modelJSON, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// tsMillis is a timestamp in test bodies; omap is a model map with ordered keys.
type (
	tsMillis int64
	omap     [][2]any
)

// sampleString returns a valid value for a string shape.
func sampleString(s *tShape) string {
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	samples := map[string]string{
		`[a-zA-Z0-9_.-]+`:                          "a",
		`0|([1-9]\d{0,38})`:                        "1",
		`0|([1-9]\d{0,128})`:                       "1",
		`arn:aws.*:kinesis:.*:\d{12}:stream/\S+`:   "arn:aws:kinesis:us-east-1:123456789012:stream/s",
		`arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+`: "arn:aws:kinesis:us-east-1:123456789012:stream/s",
		`^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+`: "arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/c:1",
		`[a-z0-9]{20}-[a-z0-9]{3}`: "abcdefghij0123456789-abc",
	}
	if s.Pattern != "" {
		v, ok := samples[s.Pattern]
		if !ok {
			panic("no sample for pattern " + s.Pattern)
		}
		return v
	}
	n := int64(1)
	if s.Min != nil && *s.Min > n {
		n = *s.Min
	}
	return strings.Repeat("v", int(n))
}

func (m *tModel) valid(name string) any {
	s := m.Shapes[name]
	switch s.Type {
	case "structure":
		out := map[string]any{}
		for _, r := range s.Required {
			out[r] = m.valid(s.Members[r].Shape)
		}
		return out
	case "list":
		return []any{m.valid(s.Member.Shape)}
	case "map":
		return omap{{m.valid(s.Key.Shape), m.valid(s.Value.Shape)}}
	case "string":
		return sampleString(s)
	case "integer", "long":
		v := int64(1)
		if s.Min != nil {
			v = *s.Min
		}
		return v
	case "boolean":
		return true
	case "blob":
		return []byte("data")
	case "timestamp":
		return tsMillis(1700000000123)
	}
	panic("type " + s.Type)
}

// phrases returns the constraint texts a scalar value v of shape s fails,
// in the documented order (pattern, min length, max length, enum, min
// value, max value).
func phrases(s *tShape, v any) []string {
	var out []string
	switch s.Type {
	case "string":
		str := v.(string)
		if s.Pattern != "" && !regexp.MustCompile(`^(?:`+s.Pattern+`)$`).MatchString(str) {
			out = append(out, "Member must satisfy regular expression pattern: "+s.Pattern)
		}
		l := int64(len(utf16.Encode([]rune(str))))
		if s.Min != nil && l < *s.Min {
			out = append(out, fmt.Sprintf("Member must have length greater than or equal to %d", *s.Min))
		}
		if s.Max != nil && l > *s.Max {
			out = append(out, fmt.Sprintf("Member must have length less than or equal to %d", *s.Max))
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
			out = append(out, "Member must satisfy enum value set: ["+strings.Join(s.Enum, ", ")+"]")
		}
	case "blob":
		l := int64(len(v.([]byte)))
		if s.Min != nil && l < *s.Min {
			out = append(out, fmt.Sprintf("Member must have length greater than or equal to %d", *s.Min))
		}
		if s.Max != nil && l > *s.Max {
			out = append(out, fmt.Sprintf("Member must have length less than or equal to %d", *s.Max))
		}
	case "integer", "long":
		n := v.(int64)
		if s.Min != nil && n < *s.Min {
			out = append(out, fmt.Sprintf("Member must have value greater than or equal to %d", *s.Min))
		}
		if s.Max != nil && n > *s.Max {
			out = append(out, fmt.Sprintf("Member must have value less than or equal to %d", *s.Max))
		}
	}
	return out
}

func render(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "'" + v + "'"
	case int64:
		return "'" + strconv.FormatInt(v, 10) + "'"
	case []byte:
		return fmt.Sprintf("'java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]'", len(v), len(v))
	}
	panic(fmt.Sprintf("render %T", v))
}

// renderList renders a list value: scalars joined, structures as
// com.amazonaws.kinesis.v20131202.<Shape>@2 (the convention of validate.go).
func renderList(m *tModel, listShape *tShape, items []any) string {
	parts := make([]string, len(items))
	for i, it := range items {
		if m.Shapes[listShape.Member.Shape].Type == "structure" {
			parts[i] = "com.amazonaws.kinesis.v20131202." + listShape.Member.Shape + "@2"
		} else {
			parts[i] = fmt.Sprint(it)
		}
	}
	return "'[" + strings.Join(parts, ", ") + "]'"
}

func renderMap(om omap) string {
	parts := make([]string, len(om))
	for i, kv := range om {
		parts[i] = fmt.Sprint(kv[0]) + "=" + fmt.Sprint(kv[1])
	}
	return "'{" + strings.Join(parts, ", ") + "}'"
}

type failure struct{ value, path, phrase string }

func message(fs []failure) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = "Value " + f.value + " at '" + f.path + "' failed to satisfy constraint: " + f.phrase
	}
	head := "1 validation error detected: "
	if len(fs) > 1 {
		head = strconv.Itoa(len(fs)) + " validation errors detected: "
	}
	return head + strings.Join(parts, "; ")
}

type constraintCase struct {
	op, path, constraint string
	body                 map[string]any
	want                 string
}

// caseBuilder walks the input shapes and makes one case per constraint.
type caseBuilder struct {
	m     *tModel
	op    string
	cases []constraintCase
	// total counts every constraint met; unviolable those that no value
	// can break (a minimum length or value of 0 on a length).
	total, unviolable int
}

func (b *caseBuilder) add(path, constraint string, body any, fs []failure) {
	b.cases = append(b.cases, constraintCase{op: b.op, path: path, constraint: constraint, body: body.(map[string]any), want: message(fs)})
}

func lowerFirstT(s string) string { return strings.ToLower(s[:1]) + s[1:] }

// structure makes the cases of structure shape name, whose path prefix is
// prefix; wrap turns a value of the structure into a whole body.
func (b *caseBuilder) structure(name, prefix string, wrap func(any) any) {
	s := b.m.Shapes[name]
	for _, mn := range slices.Sorted(maps.Keys(s.Members)) {
		ms := s.Members[mn].Shape
		path := prefix + lowerFirstT(mn)
		with := func(v any, absent bool) any {
			base := b.m.valid(name).(map[string]any)
			if absent {
				delete(base, mn)
			} else {
				base[mn] = v
			}
			return wrap(base)
		}
		if slices.Contains(s.Required, mn) {
			b.total++
			b.add(path, "required", with(nil, true), []failure{{"null", path, "Member must not be null"}})
		}
		b.value(ms, path, func(v any) any { return with(v, false) })
	}
}

// scalarViolations returns a breaking value for each constraint of a
// scalar shape (nil for an unviolable one), keyed by constraint name.
func (b *caseBuilder) scalarViolations(s *tShape) (names []string, values []any) {
	add := func(n string, v any) { names = append(names, n); values = append(values, v) }
	switch s.Type {
	case "string":
		valid := sampleString(s)
		if s.Pattern != "" {
			add("pattern", "!")
		}
		if s.Min != nil {
			if *s.Min == 0 {
				add("min", nil)
			} else {
				add("min", strings.Repeat("v", int(*s.Min-1)))
			}
		}
		if s.Max != nil {
			pad := valid[len(valid)-1:]
			add("max", valid+strings.Repeat(pad, int(*s.Max)+1-len(valid)))
		}
		if len(s.Enum) > 0 {
			add("enum", "BOGUS")
		}
	case "blob":
		if s.Min != nil {
			if *s.Min == 0 {
				add("min", nil)
			} else {
				add("min", make([]byte, *s.Min-1))
			}
		}
		if s.Max != nil {
			add("max", bytes.Repeat([]byte{7}, int(*s.Max)+1))
		}
	case "integer", "long":
		if s.Min != nil {
			add("minValue", *s.Min-1)
		}
		if s.Max != nil {
			add("maxValue", *s.Max+1)
		}
	}
	return names, values
}

// value makes the cases of a member of shape name at path; set puts a
// value there and returns the whole body.
func (b *caseBuilder) value(name, path string, set func(any) any) {
	s := b.m.Shapes[name]
	switch s.Type {
	case "structure":
		b.structure(name, path+".", set)
	case "list":
		ms := b.m.Shapes[s.Member.Shape]
		if s.Min != nil {
			b.total++
			if *s.Min == 0 {
				b.unviolable++
			} else {
				items := []any{}
				for i := int64(0); i < *s.Min-1; i++ {
					items = append(items, b.m.valid(s.Member.Shape))
				}
				b.add(path, "min", set(items), []failure{{renderList(b.m, s, items), path, fmt.Sprintf("Member must have length greater than or equal to %d", *s.Min)}})
			}
		}
		if s.Max != nil {
			b.total++
			items := make([]any, *s.Max+1)
			for i := range items {
				items[i] = b.m.valid(s.Member.Shape)
			}
			b.add(path, "max", set(items), []failure{{renderList(b.m, s, items), path, fmt.Sprintf("Member must have length less than or equal to %d", *s.Max)}})
		}
		if ms.Type == "structure" {
			b.structure(s.Member.Shape, path+".1.member.", func(v any) any { return set([]any{v}) })
			return
		}
		names, values := b.scalarViolations(ms)
		for i, v := range values {
			b.total++
			if v == nil {
				b.unviolable++
				continue
			}
			items := []any{v}
			b.add(path, "member "+names[i], set(items), []failure{{renderList(b.m, s, items), path,
				"Member must satisfy constraint: [" + strings.Join(phrases(ms, v), ", ") + "]"}})
		}
	case "map":
		ks, vs := b.m.Shapes[s.Key.Shape], b.m.Shapes[s.Value.Shape]
		validKey, validVal := b.m.valid(s.Key.Shape), b.m.valid(s.Value.Shape)
		if s.Min != nil {
			b.total++
			if *s.Min == 0 {
				b.unviolable++
			} else {
				om := omap{}
				b.add(path, "min", set(om), []failure{{renderMap(om), path, fmt.Sprintf("Member must have length greater than or equal to %d", *s.Min)}})
			}
		}
		if s.Max != nil {
			b.total++
			om := omap{}
			for i := int64(0); i <= *s.Max; i++ {
				om = append(om, [2]any{fmt.Sprintf("k%05d", i), validVal})
			}
			b.add(path, "max", set(om), []failure{{renderMap(om), path, fmt.Sprintf("Member must have length less than or equal to %d", *s.Max)}})
		}
		names, values := b.scalarViolations(ks)
		for i, v := range values {
			b.total++
			if v == nil {
				b.unviolable++
				continue
			}
			om := omap{{v, validVal}}
			b.add(path, "key "+names[i], set(om), []failure{{renderMap(om), path,
				"Map keys must satisfy constraint: [" + strings.Join(phrases(ks, v), ", ") + "]"}})
		}
		names, values = b.scalarViolations(vs)
		for i, v := range values {
			b.total++
			if v == nil {
				b.unviolable++
				continue
			}
			om := omap{{validKey, v}}
			b.add(path, "value "+names[i], set(om), []failure{{renderMap(om), path,
				"Map value must satisfy constraint: [" + strings.Join(phrases(vs, v), ", ") + "]"}})
		}
	default:
		names, values := b.scalarViolations(s)
		for i, v := range values {
			b.total++
			if v == nil {
				b.unviolable++
				continue
			}
			var fs []failure
			for _, p := range phrases(s, v) {
				fs = append(fs, failure{render(v), path, p})
			}
			b.add(path, names[i], set(v), fs)
		}
	}
}

// countConstraints counts the constraints reachable from shape name, the
// plain way: required members, min, max, pattern and enum of every shape
// met (through structures, list members and map keys and values).
func countConstraints(m *tModel, name string) int {
	s := m.Shapes[name]
	n := 0
	if s.Min != nil {
		n++
	}
	if s.Max != nil {
		n++
	}
	if s.Pattern != "" {
		n++
	}
	if len(s.Enum) > 0 {
		n++
	}
	switch s.Type {
	case "structure":
		n += len(s.Required)
		for _, mm := range s.Members {
			n += countConstraints(m, mm.Shape)
		}
	case "list":
		n += countConstraints(m, s.Member.Shape)
	case "map":
		n += countConstraints(m, s.Key.Shape) + countConstraints(m, s.Value.Shape)
	}
	return n
}

// allConstraintCases returns the cases of every operation.
func allConstraintCases(t testing.TB) []constraintCase {
	m := loadTestModel(t)
	var all []constraintCase
	ops := slices.Sorted(maps.Keys(m.Operations))
	if len(ops) != 39 {
		t.Fatalf("model has %d operations, want 39", len(ops))
	}
	for _, op := range ops {
		in := m.Operations[op].Input
		if in == nil {
			t.Fatalf("%s has no input shape", op)
		}
		b := &caseBuilder{m: m, op: op}
		b.structure(in.Shape, "", func(v any) any { return v })
		if want := countConstraints(m, in.Shape); b.total != want {
			t.Fatalf("%s: %d constraints exercised or skipped, the model has %d", op, b.total, want)
		}
		if len(b.cases)+b.unviolable != b.total {
			t.Fatalf("%s: %d cases + %d unviolable != %d constraints", op, len(b.cases), b.unviolable, b.total)
		}
		all = append(all, b.cases...)
	}
	return all
}

// toJSON and toCBOR encode a test body with independent encoders.
func toJSONValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = toJSONValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = toJSONValue(x)
		}
		return out
	case omap:
		out := map[string]any{}
		for _, kv := range v {
			out[kv[0].(string)] = toJSONValue(kv[1])
		}
		return out
	case []byte:
		return base64.StdEncoding.EncodeToString(v)
	case tsMillis:
		return json.Number(strconv.FormatFloat(float64(v)/1000, 'f', 3, 64))
	}
	return v
}

func toCBORValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = toCBORValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = toCBORValue(x)
		}
		return out
	case omap:
		out := map[string]any{}
		for _, kv := range v {
			out[kv[0].(string)] = toCBORValue(kv[1])
		}
		return out
	case tsMillis:
		return cbor.Tag{Number: 1, Content: int64(v)}
	}
	return v
}

var testCBOR = func() cbor.EncMode {
	em, err := cbor.EncOptions{Sort: cbor.SortBytewiseLexical}.EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

func encodeBody(t testing.TB, enc Encoding, body map[string]any) []byte {
	var b []byte
	var err error
	if enc == EncodingCBOR {
		b, err = testCBOR.Marshal(toCBORValue(body))
	} else {
		b, err = json.Marshal(toJSONValue(body))
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkValidation(err error, want string) error {
	var e *Error
	if !errors.As(err, &e) {
		return fmt.Errorf("got %v, want ValidationException", err)
	}
	if e.Code != CodeValidation || e.Status != 400 || e.Message != want {
		return fmt.Errorf("got %s %d %q\nwant ValidationException 400 %q", e.Code, e.Status, clip(e.Message), clip(want))
	}
	return nil
}

func TestWireModelConstraints(t *testing.T) {
	cases := allConstraintCases(t)
	ops := map[string]int{}
	for _, c := range cases {
		ops[c.op]++
		for _, enc := range []Encoding{EncodingJSON, EncodingCBOR} {
			body := encodeBody(t, enc, c.body)
			err := DecodeInput(c.op, enc, body, NewInput(c.op))
			if e := checkValidation(err, c.want); e != nil {
				t.Errorf("%s %s %s (%s): %v", c.op, c.path, c.constraint, enc, e)
			}
		}
	}
	// Operations whose input has no constraint at all.
	for _, op := range APIModel().OperationNames() {
		if ops[op] == 0 {
			t.Logf("%s: no constraint", op)
		}
	}
	t.Logf("%d constraint cases over %d operations", len(cases), len(ops))
}

// TestWireModelValidInputs decodes the minimal valid input of every
// operation in both encodings.
func TestWireModelValidInputs(t *testing.T) {
	m := loadTestModel(t)
	for op, o := range m.Operations {
		body := m.valid(o.Input.Shape).(map[string]any)
		for _, enc := range []Encoding{EncodingJSON, EncodingCBOR} {
			dst := NewInput(op)
			if err := DecodeInput(op, enc, encodeBody(t, enc, body), dst); err != nil {
				t.Errorf("%s %s: %v", op, enc, err)
			}
		}
	}
}

// clip shortens long messages in failure output.
func clip(s string) string {
	if len(s) > 400 {
		return s[:200] + " ... " + s[len(s)-200:]
	}
	return s
}
