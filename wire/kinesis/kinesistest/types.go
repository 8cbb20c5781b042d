package kinesistest

import (
	"maps"
	"slices"
)

// Type-error texts (SerializationException, JSON), as kinesalite captured
// them from AWS (KINESIS_API.md 1.2, 1.4): Jackson's coercion errors.
const (
	msgStartOfList   = "Start of list found where not expected"
	msgStartOfStruct = "Start of structure or map found where not expected."
)

// javaName is the Java class of a scalar model type in coercion errors.
var javaName = map[string]string{"string": "String", "integer": "Integer", "long": "Long", "boolean": "Boolean"}

// wrongValues returns values of the wrong JSON type for a shape type, each
// with the SerializationException message AWS answers.
func wrongValues(typ string) (names []string, values []any, msgs []string) {
	add := func(n string, v any, msg string) {
		names, values, msgs = append(names, n), append(values, v), append(msgs, msg)
	}
	switch typ {
	case "string":
		add("number", int64(5), "class java.math.BigDecimal can not be converted to an String")
		add("boolean", true, "class java.lang.Boolean can not be converted to an String")
		add("list", []any{}, msgStartOfList)
		add("object", map[string]any{}, msgStartOfStruct)
	case "integer", "long":
		add("string", "x", "class java.lang.String can not be converted to an "+javaName[typ])
		add("boolean", true, "class java.lang.Boolean can not be converted to an "+javaName[typ])
		add("list", []any{}, msgStartOfList)
		add("object", map[string]any{}, msgStartOfStruct)
	case "boolean":
		add("number", int64(5), "class java.math.BigDecimal can not be converted to an Boolean")
		add("string", "maybe", "'MAYBE' can not be converted to an Boolean")
		add("list", []any{}, msgStartOfList)
		add("object", map[string]any{}, msgStartOfStruct)
	case "blob":
		add("number", int64(5), "class java.math.BigDecimal can not be converted to a Blob")
		add("boolean", true, "class java.lang.Boolean can not be converted to a Blob")
		add("bad base64", "abc", "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3")
		add("list", []any{}, msgStartOfList)
		add("object", map[string]any{}, msgStartOfStruct)
	case "timestamp":
		add("string", "x", "class java.lang.String can not be converted to milliseconds since epoch")
		add("boolean", true, "class java.lang.Boolean can not be converted to milliseconds since epoch")
		add("list", []any{}, msgStartOfList)
		add("object", map[string]any{}, msgStartOfStruct)
	case "structure":
		add("string", "x", "Expected null")
		add("list", []any{}, msgStartOfList)
	case "list":
		add("string", "x", "Expected list or null")
		add("object", map[string]any{}, msgStartOfStruct)
	case "map":
		add("string", "x", "Expected map or null")
		add("list", []any{}, msgStartOfList)
	}
	return names, values, msgs
}

// TypeCases returns, for every member of every operation's input (nested
// structures, list elements and map values included), requests whose
// member has the wrong JSON type, each with the SerializationException
// AWS answers. They are JSON cases: CBOR has other types and texts.
func TypeCases(m *Model) []Case {
	var all []Case
	for _, op := range m.OperationNames() {
		in := m.Operations[op].Input.Shape
		all = append(all, m.typeCases(op, in, "", func(v any) any { return v })...)
	}
	return all
}

func (m *Model) typeCases(op, name, prefix string, wrap func(any) any) []Case {
	s := m.Shapes[name]
	var out []Case
	for _, mn := range slices.Sorted(maps.Keys(s.Members)) {
		path := prefix + lowerFirst(mn)
		set := func(v any) any {
			base := m.Valid(name).(map[string]any)
			base[mn] = v
			return wrap(base)
		}
		out = append(out, m.typeCasesOf(op, s.Members[mn].Shape, path, set)...)
	}
	return out
}

// typeCasesOf makes the cases of a value of shape name at path.
func (m *Model) typeCasesOf(op, name, path string, set func(any) any) []Case {
	s := m.Shapes[name]
	var out []Case
	names, values, msgs := wrongValues(s.Type)
	for i, v := range values {
		out = append(out, Case{Op: op, Path: path, Constraint: "type " + names[i], Body: set(v).(map[string]any),
			Code: CodeSerialization, Message: msgs[i]})
	}
	switch s.Type {
	case "structure":
		out = append(out, m.typeCases(op, name, path+".", set)...)
	case "list":
		out = append(out, m.typeCasesOf(op, s.Member.Shape, path+".1.member", func(v any) any { return set([]any{v}) })...)
	case "map":
		key := m.Valid(s.Key.Shape)
		out = append(out, m.typeCasesOf(op, s.Value.Shape, path+".value", func(v any) any { return set(OrderedMap{{key, v}}) })...)
	}
	return out
}
