package kinesistest_test

import (
	"errors"
	"testing"

	"github.com/sluicehq/sluice/wire/kinesis"
	"github.com/sluicehq/sluice/wire/kinesis/kinesistest"
)

// TestCasesAgainstDecoder runs every case through the model-driven
// decoder: the cases and the decoder must agree (the HTTP tests then only
// add the transport).
func TestCasesAgainstDecoder(t *testing.T) {
	m, err := kinesistest.LoadModel(kinesis.ModelJSON())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(m.OperationNames()); n != 39 {
		t.Fatalf("%d operations, want 39", n)
	}
	cases, err := kinesistest.ConstraintCases(m)
	if err != nil {
		t.Fatal(err)
	}
	types := kinesistest.TypeCases(m)
	if len(cases) < 300 || len(types) < 300 {
		t.Fatalf("%d constraint cases, %d type cases", len(cases), len(types))
	}
	run := func(c *kinesistest.Case, enc kinesis.Encoding, body []byte) {
		err := kinesis.DecodeInput(c.Op, enc, body, kinesis.NewInput(c.Op))
		var e *kinesis.Error
		if !errors.As(err, &e) || e.Code != c.Code || e.Status != 400 || e.Message != c.Message {
			t.Errorf("%s (%s): got %v, want %s %q", c.Name(), enc, err, c.Code, c.Message)
		}
	}
	for i := range cases {
		c := &cases[i]
		jb, err := kinesistest.JSONBody(c.Body)
		if err != nil {
			t.Fatal(err)
		}
		cb, err := kinesistest.CBORBody(c.Body)
		if err != nil {
			t.Fatal(err)
		}
		run(c, kinesis.EncodingJSON, jb)
		run(c, kinesis.EncodingCBOR, cb)
	}
	for i := range types {
		c := &types[i]
		jb, err := kinesistest.JSONBody(c.Body)
		if err != nil {
			t.Fatal(err)
		}
		run(c, kinesis.EncodingJSON, jb)
	}
	// The minimal valid inputs decode.
	for _, op := range m.OperationNames() {
		jb, err := kinesistest.JSONBody(m.ValidInput(op))
		if err != nil {
			t.Fatal(err)
		}
		if err := kinesis.DecodeInput(op, kinesis.EncodingJSON, jb, kinesis.NewInput(op)); err != nil {
			t.Errorf("%s valid input: %v", op, err)
		}
	}
	t.Logf("%d constraint cases, %d type cases", len(cases), len(types))
}
