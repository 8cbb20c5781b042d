package stream

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestStreamStateConsumers(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	cfg := testConfig(t.TempDir(), clk.Now)
	cfg.ConsumerActivationDelay = 2 * time.Second
	m := openTest(t, cfg)
	mustOK(t, m.CreateStream("s", 1))
	arn := describe(t, m, "s").ARN

	c, err := m.RegisterStreamConsumer(arn, "app", nil)
	mustOK(t, err)
	want := ConsumerInfo{Name: "app", ARN: arn + "/consumer/app:1700000000", Status: ConsumerCreating,
		CreatedMillis: 1_700_000_000_000, StreamARN: arn}
	if c != want {
		t.Fatalf("registered %+v\nwant %+v", c, want)
	}
	if c.ARN != "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/app:1700000000" {
		t.Fatalf("ARN %s", c.ARN)
	}
	got, err := m.DescribeStreamConsumer("", "", c.ARN)
	if err != nil || got.Status != ConsumerCreating {
		t.Fatalf("describe while creating: %+v, %v", got, err)
	}
	clk.Add(2 * time.Second)
	got, err = m.DescribeStreamConsumer(arn, "app", "")
	want.Status = ConsumerActive
	if err != nil || got != want {
		t.Fatalf("describe by stream+name: %+v, %v", got, err)
	}
	if got, err := m.DescribeStreamConsumer(arn, "app", c.ARN); err != nil || got != want {
		t.Fatalf("describe by all three: %+v, %v", got, err)
	}
	_, err = m.DescribeStreamConsumer(arn, "other", c.ARN)
	wantArg(t, err, "")
	_, err = m.DescribeStreamConsumer(arn, "", "")
	wantArg(t, err, "")
	_, err = m.DescribeStreamConsumer(arn, "ghost", "")
	wantErr(t, err, ErrResourceNotFound, "Consumer ghost under account 000000000000 not found.")
	if describe(t, m, "s").ConsumerCount != 1 {
		t.Fatal("ConsumerCount")
	}

	_, err = m.RegisterStreamConsumer(arn, "app", nil)
	wantErr(t, err, ErrResourceInUse, "")
	_, err = m.RegisterStreamConsumer(arn, "bad name", nil)
	wantArg(t, err, "")
	_, err = m.RegisterStreamConsumer("arn:aws:kinesis:us-east-1:000000000000:stream/nope", "a", nil)
	wantErr(t, err, ErrStreamNotFound, "")

	// At most 5 CREATING at once.
	for i := range 5 {
		_, err := m.RegisterStreamConsumer(arn, "c"+strconv.Itoa(i), nil)
		mustOK(t, err)
	}
	_, err = m.RegisterStreamConsumer(arn, "c5", nil)
	wantErr(t, err, ErrLimitExceeded, "")
	clk.Add(2 * time.Second)
	// At most 20 per stream.
	for i := 5; i < 19; i++ {
		_, err := m.RegisterStreamConsumer(arn, "c"+strconv.Itoa(i), nil)
		mustOK(t, err)
		clk.Add(time.Second)
	}
	_, err = m.RegisterStreamConsumer(arn, "c19", nil)
	wantErr(t, err, ErrLimitExceeded, "")

	// Pages of ListStreamConsumers cover every consumer once, in
	// registration order.
	var all []ConsumerInfo
	tok := ""
	for range 10 {
		page, next, err := m.ListStreamConsumers(arn, tok, 7, 0)
		mustOK(t, err)
		all = append(all, page...)
		if next == "" {
			break
		}
		tok = next
	}
	if len(all) != 20 || all[0].Name != "app" || all[19].Name != "c18" {
		t.Fatalf("listed %d consumers: first %+v last %+v", len(all), all[0], all[len(all)-1])
	}
	seen := map[string]bool{}
	for _, c := range all {
		if seen[c.Name] {
			t.Fatalf("%s listed twice", c.Name)
		}
		seen[c.Name] = true
	}
	_, _, err = m.ListStreamConsumers(arn, "garbage", 0, 0)
	wantArg(t, err, "")
	_, _, err = m.ListStreamConsumers(arn, "", 10001, 0)
	wantArg(t, err, "")
	if page, _, err := m.ListStreamConsumers(arn, "", 0, describe(t, m, "s").CreatedMillis); err != nil || len(page) != 20 {
		t.Fatalf("with StreamCreationTimestamp: %d, %v", len(page), err)
	}
	_, _, err = m.ListStreamConsumers(arn, "", 0, 1)
	wantErr(t, err, ErrStreamNotFound, "")

	// Deregister by ARN and by stream+name; re-registering gives a new ARN.
	mustOK(t, m.DeregisterStreamConsumer("", "", c.ARN))
	mustOK(t, m.DeregisterStreamConsumer(arn, "c0", ""))
	wantErr(t, m.DeregisterStreamConsumer("", "", c.ARN), ErrResourceNotFound, "")
	c2, err := m.RegisterStreamConsumer(arn, "app", nil)
	mustOK(t, err)
	if c2.ARN == c.ARN {
		t.Fatalf("re-registered consumer has the old ARN %s", c2.ARN)
	}
	clk.Add(time.Hour) // a re-registration in another second
	mustOK(t, m.DeregisterStreamConsumer("", "", c2.ARN))
	c3, err := m.RegisterStreamConsumer(arn, "app", nil)
	mustOK(t, err)
	if c3.ARN == c2.ARN {
		t.Fatal("same ARN after an hour")
	}

	// DeleteStream refuses while consumers exist, unless enforced; the
	// consumers go with the stream.
	wantErr(t, m.DeleteStream("s"), ErrResourceInUse, "")
	mustOK(t, m.DeleteStreamEnforce("s", true))
	mustOK(t, m.CreateStream("s", 1))
	if n := describe(t, m, "s").ConsumerCount; n != 0 {
		t.Fatalf("re-created stream has %d consumers", n)
	}
	_, err = m.DescribeStreamConsumer("", "", c3.ARN)
	wantErr(t, err, ErrResourceNotFound, "")
}

func TestStreamStateConsumerTokenOrder(t *testing.T) {
	// Consumers registered within one millisecond list in name order,
	// and pages split between them lose none.
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := openTest(t, testConfig(t.TempDir(), clk.Now))
	mustOK(t, m.CreateStream("s", 1))
	arn := describe(t, m, "s").ARN
	for _, n := range []string{"d", "b", "c", "a"} {
		_, err := m.RegisterStreamConsumer(arn, n, nil)
		mustOK(t, err)
	}
	var names []string
	tok := ""
	for range 5 {
		page, next, err := m.ListStreamConsumers(arn, tok, 1, 0)
		mustOK(t, err)
		for _, c := range page {
			names = append(names, c.Name)
		}
		if tok = next; tok == "" {
			break
		}
	}
	if len(names) != 4 || names[0] != "a" || names[3] != "d" {
		t.Fatalf("names %v", names)
	}
	if !errors.Is(m.DeleteStream("s"), ErrResourceInUse) {
		t.Fatal("DeleteStream with consumers succeeded")
	}
}
