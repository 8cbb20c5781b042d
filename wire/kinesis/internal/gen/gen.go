// Package gen generates the Go types of the Kinesis model shapes
// (wire/kinesis/types_gen.go). It is run by `go generate ./wire/kinesis`
// and by a test that fails when the committed file is stale.
//
// Fields are named after the members, with the first letter upper-cased
// (the exception shapes' "message" becomes Message); tags keep the exact
// member names.
//
// Naming rule: every structure shape reachable from an operation's input or
// output becomes a Go struct named after the shape (CreateStreamInput,
// StreamDescriptionSummary, Shard, ...). When that name is already declared
// by a hand-written file of the package (Record, HashKeyRange, ChildShard,
// PutRecordsResultEntry, ...), the generated type gets the suffix "Shape"
// (RecordShape, HashKeyRangeShape, ...); the hand-written hot-path types keep
// their names.
package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type ref struct{ Shape string }

type shape struct {
	Type        string
	Members     members
	Required    []string
	Member      *ref
	Key, Value  *ref
	Enum        []string
	Eventstream bool
	Exception   bool
	Event       bool
}

type members struct {
	names  []string
	shapes []string
}

func (r *members) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var m ref
		if err := dec.Decode(&m); err != nil {
			return err
		}
		r.names = append(r.names, t.(string))
		r.shapes = append(r.shapes, m.Shape)
	}
	return nil
}

type model struct {
	Metadata   struct{ TargetPrefix string }
	Operations map[string]struct {
		Input, Output *ref
	}
	Shapes map[string]*shape
}

// Suffix is appended to generated names that clash with hand-written ones.
const Suffix = "Shape"

// HandWritten returns the top-level identifiers declared by the non-test,
// non-generated Go files of dir.
func HandWritten(dir string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, "_gen.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		if af.Name.Name != "kinesis" {
			continue // //go:build ignore tools
		}
		for _, d := range af.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					names[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						names[s.Name.Name] = true
					case *ast.ValueSpec:
						for _, n := range s.Names {
							names[n.Name] = true
						}
					}
				}
			}
		}
	}
	return names, nil
}

// Generate returns the formatted source of types_gen.go for the model in
// modelJSON; taken are the identifiers already declared in the package.
func Generate(modelJSON []byte, taken map[string]bool) ([]byte, error) {
	var m model
	if err := json.Unmarshal(modelJSON, &m); err != nil {
		return nil, err
	}
	// Structures reachable from an operation, in a stable order.
	seen := map[string]bool{}
	var order []string
	var visit func(name string)
	visit = func(name string) {
		s := m.Shapes[name]
		if s == nil || seen[name] {
			return
		}
		seen[name] = true
		switch s.Type {
		case "structure":
			order = append(order, name)
			for _, sh := range s.Members.shapes {
				visit(sh)
			}
		case "list":
			visit(s.Member.Shape)
		case "map":
			visit(s.Key.Shape)
			visit(s.Value.Shape)
		}
	}
	ops := make([]string, 0, len(m.Operations))
	for op := range m.Operations {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		o := m.Operations[op]
		if o.Input != nil {
			visit(o.Input.Shape)
		}
		if o.Output != nil {
			visit(o.Output.Shape)
		}
	}
	sort.Strings(order)
	goName := func(shape string) string {
		if taken[shape] {
			return shape + Suffix
		}
		return shape
	}
	var typeOf func(name string, optional bool) string
	typeOf = func(name string, optional bool) string {
		s := m.Shapes[name]
		ptr := ""
		if optional {
			ptr = "*"
		}
		switch s.Type {
		case "string":
			return ptr + "string"
		case "integer":
			return ptr + "int32"
		case "long":
			return ptr + "int64"
		case "boolean":
			return ptr + "bool"
		case "timestamp":
			return ptr + "Timestamp"
		case "blob":
			return "[]byte"
		case "list":
			return "[]" + typeOf(s.Member.Shape, false)
		case "map":
			return "map[" + typeOf(s.Key.Shape, false) + "]" + typeOf(s.Value.Shape, false)
		case "structure":
			return ptr + goName(name)
		}
		panic("gen: unknown shape type " + s.Type)
	}
	purpose := map[string]string{}
	for _, op := range ops {
		o := m.Operations[op]
		if o.Input != nil {
			purpose[o.Input.Shape] += fmt.Sprintf(" It is the input of %s.%s.", m.Metadata.TargetPrefix, op)
		}
		if o.Output != nil {
			purpose[o.Output.Shape] += fmt.Sprintf(" It is the output of %s.%s.", m.Metadata.TargetPrefix, op)
		}
	}

	var b bytes.Buffer
	b.WriteString("// Code generated by wire/kinesis/internal/gen from model/kinesis-2013-12-02.json; DO NOT EDIT.\n\npackage kinesis\n\n")
	for _, name := range order {
		s := m.Shapes[name]
		g := goName(name)
		fmt.Fprintf(&b, "// %s is the model shape %s.%s\n", g, name, purpose[name])
		if s.Eventstream {
			b.WriteString("// It is an event-stream union: exactly one member is set.\n")
		}
		fmt.Fprintf(&b, "type %s struct {\n", g)
		req := map[string]bool{}
		for _, r := range s.Required {
			req[r] = true
		}
		for i, mn := range s.Members.names {
			optional := !req[mn] || s.Eventstream
			omit := ""
			if optional {
				omit = ",omitempty"
			}
			fmt.Fprintf(&b, "\t%s %s `json:\"%s%s\" cbor:\"%s%s\"`\n", strings.ToUpper(mn[:1])+mn[1:], typeOf(s.Members.shapes[i], optional), mn, omit, mn, omit)
		}
		b.WriteString("}\n\n")
		fmt.Fprintf(&b, "func (*%s) shapeName() string { return %q }\n\n", g, name)
	}
	// Operation registry.
	b.WriteString("// newInputs makes a zero input value for each operation.\nvar newInputs = map[string]func() any{\n")
	for _, op := range ops {
		if in := m.Operations[op].Input; in != nil {
			fmt.Fprintf(&b, "\t%q: func() any { return new(%s) },\n", op, goName(in.Shape))
		}
	}
	b.WriteString("}\n\n// newOutputs makes a zero output value for each operation that has one.\nvar newOutputs = map[string]func() any{\n")
	for _, op := range ops {
		if out := m.Operations[op].Output; out != nil {
			fmt.Fprintf(&b, "\t%q: func() any { return new(%s) },\n", op, goName(out.Shape))
		}
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

// Main regenerates dir/types_gen.go from dir/model/kinesis-2013-12-02.json.
func Main(dir string) error {
	src, err := os.ReadFile(filepath.Join(dir, "model", "kinesis-2013-12-02.json"))
	if err != nil {
		return err
	}
	taken, err := HandWritten(dir)
	if err != nil {
		return err
	}
	out, err := Generate(src, taken)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "types_gen.go"), out, 0o644)
}
