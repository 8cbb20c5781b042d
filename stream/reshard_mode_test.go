package stream

import (
	"errors"
	"testing"
)

// TestReshardOnDemandRefused: the shards of an ON_DEMAND stream are not
// the client's to change (ValidationException), and switching it back to
// PROVISIONED allows resharding again.
func TestStreamReshardOnDemandRefused(t *testing.T) {
	m := openTest(t, testConfig(t.TempDir(), nil))
	if err := m.CreateStreamWith("od", CreateStreamOptions{Mode: ModeOnDemand}); err != nil {
		t.Fatal(err)
	}
	check := func(op string, err error) {
		t.Helper()
		var api *APIError
		if !errors.As(err, &api) || !errors.Is(err, ErrValidation) || api.Msg != op+" is not supported for streams in ON_DEMAND mode." {
			t.Errorf("%s: %v", op, err)
		}
	}
	check("SplitShard", m.SplitShard("od", ShardID(0), "1000"))
	check("MergeShards", m.MergeShards("od", ShardID(0), ShardID(1)))
	_, _, err := m.UpdateShardCount("od", 2, ScalingUniform)
	check("UpdateShardCount", err)
	info, err := m.DescribeStream("od")
	if err != nil || len(info.Shards) != OnDemandShardCount {
		t.Fatalf("shards after the refusals: %+v, %v", info.Shards, err)
	}
	if err := m.UpdateStreamMode("od", ModeProvisioned, 0); err != nil {
		t.Fatal(err)
	}
	if err := m.SplitShard("od", ShardID(0), "1000"); err != nil {
		t.Errorf("SplitShard after the switch to PROVISIONED: %v", err)
	}
}
