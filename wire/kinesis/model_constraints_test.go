package kinesis

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/wire/kinesis/kinesistest"
)

// This file checks DecodeInput against every constraint of the model. The
// cases come from kinesistest, which reads the model JSON itself (not
// through LoadModel) and builds the expected messages from the
// constraints, so the test does not trust the code under test's view of
// the model or its formatter. The HTTP front end runs the same cases over
// a socket (ingress/httpapi TestHTTPModelConstraints).

func loadTestModel(t testing.TB) *kinesistest.Model {
	m, err := kinesistest.LoadModel(modelJSON)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// allConstraintCases returns the cases of every operation.
func allConstraintCases(t testing.TB) []kinesistest.Case {
	m := loadTestModel(t)
	if n := len(m.Operations); n != 39 {
		t.Fatalf("model has %d operations, want 39", n)
	}
	cases, err := kinesistest.ConstraintCases(m)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// encodeBody encodes a test body with encoders independent of this
// package (encoding/json, fxamacker/cbor).
func encodeBody(t testing.TB, enc Encoding, body map[string]any) []byte {
	var b []byte
	var err error
	if enc == EncodingCBOR {
		b, err = kinesistest.CBORBody(body)
	} else {
		b, err = kinesistest.JSONBody(body)
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
		ops[c.Op]++
		for _, enc := range []Encoding{EncodingJSON, EncodingCBOR} {
			body := encodeBody(t, enc, c.Body)
			err := DecodeInput(c.Op, enc, body, NewInput(c.Op))
			if e := checkValidation(err, c.Message); e != nil {
				t.Errorf("%s %s %s (%s): %v", c.Op, c.Path, c.Constraint, enc, e)
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
	for op := range m.Operations {
		body := m.ValidInput(op)
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
