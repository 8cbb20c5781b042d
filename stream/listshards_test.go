package stream

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func shardIDs(r ListShardsResult) []string {
	var out []string
	for _, sh := range r.Shards {
		out = append(out, sh.ShardID)
	}
	return out
}

func ids(ix ...int) []string {
	var out []string
	for _, i := range ix {
		out = append(out, ShardID(i))
	}
	return out
}

func TestListShardsFilters(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := openTest(t, testConfig(t.TempDir(), clk.Now))
	if err := m.CreateStream("s", 2); err != nil {
		t.Fatal(err)
	}
	t0 := clk.Now().UnixMilli()
	clk.Add(10 * time.Second)
	t1 := clk.Now().UnixMilli()
	rs := EvenSplit(2)
	if err := m.SplitShard("s", ShardID(0), rs[0].End.dec().dec().String()); err != nil { // -> 2, 3
		t.Fatal(err)
	}
	clk.Add(10 * time.Second)
	t2 := clk.Now().UnixMilli()
	if err := m.MergeShards("s", ShardID(3), ShardID(1)); err != nil { // -> 4
		t.Fatal(err)
	}
	ts := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name string
		opts ListShardsOptions
		want []string
	}{
		{"default", ListShardsOptions{}, ids(0, 1, 2, 3, 4)},
		{"FROM_TRIM_HORIZON", ListShardsOptions{Filter: &ShardFilter{Type: FilterFromTrimHorizon}}, ids(0, 1, 2, 3, 4)},
		{"AT_LATEST", ListShardsOptions{Filter: &ShardFilter{Type: FilterAtLatest}}, ids(2, 4)},
		{"AT_TRIM_HORIZON", ListShardsOptions{Filter: &ShardFilter{Type: FilterAtTrimHorizon}}, ids(0, 1)},
		{"AT_TIMESTAMP between", ListShardsOptions{Filter: &ShardFilter{Type: FilterAtTimestamp, Timestamp: ts(t1 + 5000)}}, ids(1, 2, 3)},
		{"AT_TIMESTAMP at split", ListShardsOptions{Filter: &ShardFilter{Type: FilterAtTimestamp, Timestamp: ts(t1)}}, ids(0, 1, 2, 3)},
		{"AT_TIMESTAMP before creation", ListShardsOptions{Filter: &ShardFilter{Type: FilterAtTimestamp, Timestamp: ts(t0 - 60000)}}, ids(0, 1)},
		{"AT_TIMESTAMP now", ListShardsOptions{Filter: &ShardFilter{Type: FilterAtTimestamp, Timestamp: ts(t2 + 1)}}, ids(2, 4)},
		{"FROM_TIMESTAMP", ListShardsOptions{Filter: &ShardFilter{Type: FilterFromTimestamp, Timestamp: ts(t1 + 5000)}}, ids(1, 2, 3, 4)},
		{"AFTER_SHARD_ID", ListShardsOptions{Filter: &ShardFilter{Type: FilterAfterShardID, ShardID: ShardID(2)}}, ids(3, 4)},
		{"ExclusiveStartShardId", ListShardsOptions{ExclusiveStartShardID: ShardID(1)}, ids(2, 3, 4)},
		{"ExclusiveStartShardId lenient", ListShardsOptions{ExclusiveStartShardID: "3"}, ids(4)},
		{"ExclusiveStartShardId string", ListShardsOptions{ExclusiveStartShardID: "shardId-000000000002x"}, ids(3, 4)},
		{"both starts", ListShardsOptions{ExclusiveStartShardID: ShardID(3), Filter: &ShardFilter{Type: FilterAfterShardID, ShardID: ShardID(1)}}, ids(4)},
		{"AT_LATEST after", ListShardsOptions{ExclusiveStartShardID: ShardID(2), Filter: &ShardFilter{Type: FilterAtLatest}}, ids(4)},
		{"creation matches", ListShardsOptions{StreamCreationMillis: t0}, ids(0, 1, 2, 3, 4)},
	} {
		got, err := m.ListShards("s", tc.opts)
		if err != nil || !slices.Equal(shardIDs(got), tc.want) || got.NextToken != "" {
			t.Errorf("%s: %v %q %v, want %v", tc.name, shardIDs(got), got.NextToken, err, tc.want)
		}
	}
	// The shards carry their lineage and closed state.
	all, _ := m.ListShards("s", ListShardsOptions{})
	if sh := all.Shards[4]; sh.ParentShardID != ShardID(3) || sh.AdjacentParentShardID != ShardID(1) || sh.EndingSequenceNumber != "" {
		t.Fatalf("shard 4: %+v", sh)
	}
	if sh := all.Shards[0]; sh.EndingSequenceNumber == "" || sh.ClosedMillis != t1 {
		t.Fatalf("shard 0: %+v", sh)
	}

	// Past the retention period closed shards drop out.
	clk.Add(25 * time.Hour)
	for _, tc := range []struct {
		f    *ShardFilter
		want []string
	}{
		{nil, ids(2, 4)},
		{&ShardFilter{Type: FilterAtTrimHorizon}, ids(2, 4)},
		{&ShardFilter{Type: FilterFromTimestamp, Timestamp: ts(t0)}, ids(2, 4)},
		{&ShardFilter{Type: FilterAtTimestamp, Timestamp: ts(t0)}, ids(2, 4)},
	} {
		got, err := m.ListShards("s", ListShardsOptions{Filter: tc.f})
		if err != nil || !slices.Equal(shardIDs(got), tc.want) {
			t.Errorf("after retention %+v: %v %v, want %v", tc.f, shardIDs(got), err, tc.want)
		}
	}
}

func TestListShardsPaging(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := openTest(t, testConfig(t.TempDir(), clk.Now))
	if err := m.CreateStream("s", 5); err != nil {
		t.Fatal(err)
	}
	if err := m.MergeShards("s", ShardID(0), ShardID(1)); err != nil { // -> 5
		t.Fatal(err)
	}
	var got []string
	opts := ListShardsOptions{MaxResults: 2}
	name := "s"
	for range 10 {
		r, err := m.ListShards(name, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Shards) > 2 {
			t.Fatalf("page of %d", len(r.Shards))
		}
		got = append(got, shardIDs(r)...)
		if r.NextToken == "" {
			break
		}
		name, opts = "", ListShardsOptions{NextToken: r.NextToken, MaxResults: 2}
	}
	if !slices.Equal(got, ids(0, 1, 2, 3, 4, 5)) {
		t.Fatalf("paged %v", got)
	}
	// The filter travels in the token.
	r, err := m.ListShards("s", ListShardsOptions{MaxResults: 1, Filter: &ShardFilter{Type: FilterAtLatest}})
	if err != nil || !slices.Equal(shardIDs(r), ids(2)) || r.NextToken == "" {
		t.Fatalf("AT_LATEST page 1: %v %v", shardIDs(r), err)
	}
	tok := r.NextToken
	r, err = m.ListShards("", ListShardsOptions{NextToken: tok, MaxResults: 10})
	if err != nil || !slices.Equal(shardIDs(r), ids(3, 4, 5)) || r.NextToken != "" {
		t.Fatalf("AT_LATEST page 2: %v %v", shardIDs(r), err)
	}

	var ae *ArgumentError
	for _, tc := range []struct {
		name string
		opts ListShardsOptions
		msg  string
	}{
		{"s", ListShardsOptions{NextToken: tok}, "NextToken and StreamName cannot be provided together."},
		{"", ListShardsOptions{NextToken: tok, ExclusiveStartShardID: ShardID(1)}, "NextToken and ExclusiveStartShardId cannot be provided together."},
		{"", ListShardsOptions{NextToken: tok, Filter: &ShardFilter{Type: FilterAtLatest}}, "NextToken and ShardFilter cannot be provided together."},
		{"", ListShardsOptions{NextToken: tok, StreamCreationMillis: 5}, "NextToken and StreamCreationTimestamp cannot be provided together."},
		{"", ListShardsOptions{}, "Either NextToken or StreamName should be provided."},
		{"", ListShardsOptions{NextToken: "garbage"}, "Invalid NextToken."},
		{"", ListShardsOptions{NextToken: tok[:len(tok)-2] + "AA"}, "Invalid NextToken."},
		{"", ListShardsOptions{NextToken: strings.Repeat("A", 100)}, "Invalid NextToken."},
		{"s", ListShardsOptions{Filter: &ShardFilter{Type: FilterAfterShardID}}, "ShardId must be specified for the AFTER_SHARD_ID ShardFilter type."},
		{"s", ListShardsOptions{Filter: &ShardFilter{Type: FilterFromTimestamp}}, "Timestamp must be specified for the FROM_TIMESTAMP ShardFilter type."},
		{"s", ListShardsOptions{Filter: &ShardFilter{Type: "NOPE"}}, `Invalid ShardFilter type "NOPE"`},
		{"s", ListShardsOptions{MaxResults: 10001}, "MaxResults must be between 1 and 10000"},
	} {
		_, err := m.ListShards(tc.name, tc.opts)
		if !errors.As(err, &ae) || err.Error() != tc.msg {
			t.Errorf("%+v: %v, want %q", tc.opts, err, tc.msg)
		}
	}
	if _, err := m.ListShards("s", ListShardsOptions{StreamCreationMillis: 5}); !errors.Is(err, ErrStreamNotFound) {
		t.Errorf("wrong creation time: %v", err)
	}
	if _, err := m.ListShards("nope", ListShardsOptions{}); !errors.Is(err, ErrStreamNotFound) {
		t.Errorf("no stream: %v", err)
	}

	// Expiry after 300 s.
	clk.Add(NextTokenLifetime)
	if _, err := m.ListShards("", ListShardsOptions{NextToken: tok}); err != nil {
		t.Fatalf("token at 300 s: %v", err)
	}
	clk.Add(time.Millisecond)
	var xe *ExpiredNextTokenError
	if _, err := m.ListShards("", ListShardsOptions{NextToken: tok}); !errors.As(err, &xe) {
		t.Fatalf("token after 300 s: %v", err)
	}

	// A token of a deleted stream does not list its successor.
	r, _ = m.ListShards("s", ListShardsOptions{MaxResults: 1})
	if err := m.DeleteStream("s"); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	if err := m.CreateStream("s", 3); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ListShards("", ListShardsOptions{NextToken: r.NextToken}); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("token of a deleted incarnation: %v", err)
	}

	// Tokens survive a restart (the secret is persisted).
	r, _ = m.ListShards("s", ListShardsOptions{MaxResults: 1})
	m.Close()
	m2 := openTest(t, m.cfg)
	r2, err := m2.ListShards("", ListShardsOptions{NextToken: r.NextToken})
	if err != nil || !slices.Equal(shardIDs(r2), ids(1, 2)) {
		t.Fatalf("after restart: %v %v", shardIDs(r2), err)
	}
}

func FuzzListShardsToken(f *testing.F) {
	m, err := Open(testConfig(f.TempDir(), nil))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { m.Close() })
	now := time.Unix(1_700_000_000, 0)
	c := m.listTokens()
	f.Add(c.encode(listToken{stream: "s", after: 3, filter: FilterAtTimestamp, ts: 5, hasTS: true}, now))
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := c.decode(s, now)
		if err != nil {
			var ae *ArgumentError
			var xe *ExpiredNextTokenError
			if !errors.As(err, &ae) && !errors.As(err, &xe) {
				t.Fatalf("error type %T", err)
			}
			return
		}
		if got, err := c.decode(c.encode(tok, now), now); err != nil || got != tok {
			t.Fatalf("round trip %+v -> %+v %v", tok, got, err)
		}
	})
}
