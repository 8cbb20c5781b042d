package kinesis

import (
	_ "embed"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
)

//go:generate go run gen_types.go

// modelJSON is the botocore Kinesis model (see model/README.md).
//
//go:embed model/kinesis-2013-12-02.json
var modelJSON []byte

// ShapeType is the type of a model shape ("structure", "string", ...).
type ShapeType string

// Shape types of the Kinesis model.
const (
	TypeStructure ShapeType = "structure"
	TypeList      ShapeType = "list"
	TypeMap       ShapeType = "map"
	TypeString    ShapeType = "string"
	TypeInteger   ShapeType = "integer"
	TypeLong      ShapeType = "long"
	TypeBoolean   ShapeType = "boolean"
	TypeBlob      ShapeType = "blob"
	TypeTimestamp ShapeType = "timestamp"
)

// Shape is one shape of the model. Min and Max bound the length of strings,
// blobs, lists and maps and the value of integers and longs; HasMin/HasMax
// tell whether the model sets them.
type Shape struct {
	Name     string
	Type     ShapeType
	Members  []Member // structures, in model order
	Required []string // structures
	Member   *Shape   // lists
	Key      *Shape   // maps
	Value    *Shape   // maps
	Min, Max int64
	HasMin   bool
	HasMax   bool
	Pattern  string
	Enum     []string
	// EventStream marks the union of SubscribeToShard events; Exception
	// marks error shapes.
	EventStream bool
	Exception   bool

	re *regexp.Regexp
	// byName maps a member name to its index in Members.
	byName map[string]int
	// checkOrder is Members sorted the way AWS reports violations:
	// alphabetically by lower-camel name, after the members of checkFirst.
	checkOrder []int
}

// Member is one member of a structure shape.
type Member struct {
	Name     string // wire name, e.g. "StreamName"
	Field    string // Go field name in generated types (Name, first letter upper-cased)
	Path     string // name in validation messages, e.g. "streamName"
	Shape    *Shape
	Required bool
}

// Operation is one operation of the model. Output is nil for operations
// that answer with an empty body.
type Operation struct {
	Name   string
	Input  *Shape
	Output *Shape
	Errors []string
}

// Model is the loaded Kinesis API model.
type Model struct {
	TargetPrefix string
	Operations   map[string]*Operation
	Shapes       map[string]*Shape
}

// OperationNames returns the names of all operations, sorted.
func (m *Model) OperationNames() []string {
	names := make([]string, 0, len(m.Operations))
	for n := range m.Operations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the member of s with the given wire name, or nil.
func (s *Shape) Lookup(name string) *Member {
	i, ok := s.byName[name]
	if !ok {
		return nil
	}
	return &s.Members[i]
}

// Matches reports whether v fully matches the shape's pattern (true when
// the shape has none).
func (s *Shape) Matches(v string) bool {
	return s.re == nil || s.re.MatchString(v)
}

// rawMembers keeps the model order of structure members.
type rawMembers struct {
	names  []string
	shapes []string
}

func (r *rawMembers) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var m struct{ Shape string }
		if err := dec.Decode(&m); err != nil {
			return err
		}
		r.names = append(r.names, t.(string))
		r.shapes = append(r.shapes, m.Shape)
	}
	return nil
}

// checkFirst lists, per shape, members AWS reports before the others (which
// follow alphabetically by lower-camel name). It mirrors the order of the
// hand-written hot-path validation (validate.go: a record's partitionKey,
// explicitHashKey, then data) so both paths give identical messages.
// [unsure] the order comes from kinesalite-era observations, not the model.
var checkFirst = map[string][]string{
	"PutRecordsRequestEntry": {"PartitionKey", "ExplicitHashKey", "Data"},
	"PutRecordInput":         {"PartitionKey", "ExplicitHashKey", "Data"},
}

// LoadModel parses a botocore service model.
func LoadModel(data []byte) (*Model, error) {
	var raw struct {
		Metadata struct {
			TargetPrefix string `json:"targetPrefix"`
		} `json:"metadata"`
		Operations map[string]struct {
			Input  *struct{ Shape string }  `json:"input"`
			Output *struct{ Shape string }  `json:"output"`
			Errors []struct{ Shape string } `json:"errors"`
		} `json:"operations"`
		Shapes map[string]struct {
			rawShapeFields
			RawMembers json.RawMessage `json:"members"`
		} `json:"shapes"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	m := &Model{TargetPrefix: raw.Metadata.TargetPrefix, Operations: map[string]*Operation{}, Shapes: map[string]*Shape{}}
	for name := range raw.Shapes {
		m.Shapes[name] = &Shape{Name: name}
	}
	for name, rs := range raw.Shapes {
		s := m.Shapes[name]
		s.Type, s.Required, s.Pattern, s.Enum = rs.Type, rs.Required, rs.Pattern, rs.Enum
		s.Exception, s.EventStream = rs.Exception, rs.Stream
		if rs.Min != nil {
			s.Min, s.HasMin = int64(*rs.Min), true
		}
		if rs.Max != nil {
			s.Max, s.HasMax = int64(*rs.Max), true
		}
		if s.Pattern != "" {
			re, err := regexp.Compile(`^(?:` + s.Pattern + `)$`)
			if err != nil {
				return nil, err
			}
			s.re = re
		}
		if rs.Member != nil {
			s.Member = m.Shapes[rs.Member.Shape]
		}
		if rs.Key != nil {
			s.Key = m.Shapes[rs.Key.Shape]
			s.Value = m.Shapes[rs.Value.Shape]
		}
		if len(rs.RawMembers) > 0 {
			var rm rawMembers
			if err := rm.UnmarshalJSON(rs.RawMembers); err != nil {
				return nil, err
			}
			s.byName = map[string]int{}
			for i, n := range rm.names {
				s.Members = append(s.Members, Member{
					Name: n, Field: strings.ToUpper(n[:1]) + n[1:], Path: lowerFirst(n), Shape: m.Shapes[rm.shapes[i]],
					Required: slices.Contains(s.Required, n),
				})
				s.byName[n] = i
				s.checkOrder = append(s.checkOrder, i)
			}
			first := checkFirst[name]
			rank := func(i int) int {
				if r := slices.Index(first, s.Members[i].Name); r >= 0 {
					return r
				}
				return len(first)
			}
			sort.SliceStable(s.checkOrder, func(a, b int) bool {
				ia, ib := s.checkOrder[a], s.checkOrder[b]
				if ra, rb := rank(ia), rank(ib); ra != rb {
					return ra < rb
				}
				return s.Members[ia].Path < s.Members[ib].Path
			})
		}
	}
	for name, ro := range raw.Operations {
		op := &Operation{Name: name}
		if ro.Input != nil {
			op.Input = m.Shapes[ro.Input.Shape]
		}
		if ro.Output != nil {
			op.Output = m.Shapes[ro.Output.Shape]
		}
		for _, e := range ro.Errors {
			op.Errors = append(op.Errors, e.Shape)
		}
		m.Operations[name] = op
	}
	return m, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// apiModel is the embedded model, parsed once at init and never modified.
var apiModel = mustLoadModel()

func mustLoadModel() *Model {
	m, err := LoadModel(modelJSON)
	if err != nil {
		panic("kinesis: embedded model: " + err.Error())
	}
	return m
}

// APIModel returns the embedded Kinesis model. Callers must not modify it.
func APIModel() *Model { return apiModel }

type rawShapeFields struct {
	Type      ShapeType               `json:"type"`
	Required  []string                `json:"required"`
	Member    *struct{ Shape string } `json:"member"`
	Key       *struct{ Shape string } `json:"key"`
	Value     *struct{ Shape string } `json:"value"`
	Min       *float64                `json:"min"`
	Max       *float64                `json:"max"`
	Pattern   string                  `json:"pattern"`
	Enum      []string                `json:"enum"`
	Exception bool                    `json:"exception"`
	Stream    bool                    `json:"eventstream"`
}
