package stream

import (
	"errors"
	"strings"
	"testing"
)

func TestStreamShardID(t *testing.T) {
	f := func(index int, want string) {
		t.Helper()
		if got := ShardID(index); got != want {
			t.Fatalf("ShardID(%d) = %q, want %q", index, got, want)
		}
		if got := string(AppendShardID([]byte("x"), index)); got != "x"+want {
			t.Fatalf("AppendShardID(x, %d) = %q, want x%s", index, got, want)
		}
		back, err := ParseShardID(want)
		if err != nil || back != index {
			t.Fatalf("ParseShardID(%q) = %d, %v, want %d", want, back, err, index)
		}
	}
	f(0, "shardId-000000000000")
	f(1, "shardId-000000000001")
	f(427, "shardId-000000000427")
	f(1050221133, "shardId-001050221133")
	f(MaxShardIndex, "shardId-002147483647")

	for _, index := range []int{-1, MaxShardIndex + 1} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "BUG: ") {
					t.Errorf("ShardID(%d) panicked with %v, want a BUG panic", index, r)
				}
			}()
			ShardID(index)
		}()
	}
}

func TestStreamParseShardID(t *testing.T) {
	ok := func(s string, want int) {
		t.Helper()
		got, err := ParseShardID(s)
		if err != nil {
			t.Fatalf("ParseShardID(%q): %v", s, err)
		}
		if got != want {
			t.Fatalf("ParseShardID(%q) = %d, want %d", s, got, want)
		}
	}
	ok("shardId-000000000000", 0)
	ok("shardId-000000000007", 7)
	ok("shardId-002147483647", MaxShardIndex)
	// Lenient forms (kinesalite's resolveShardId).
	ok("shardId-5", 5)
	ok("shardId-0000000000000000000005", 5)
	ok("5", 5)
	ok("000000000012", 12)
	ok("2147483647", MaxShardIndex)

	bad := func(s, wantText string) {
		t.Helper()
		_, err := ParseShardID(s)
		if !errors.Is(err, ErrInvalidShardID) {
			t.Fatalf("ParseShardID(%q) = %v, want ErrInvalidShardID", s, err)
		}
		if err.Error() != wantText {
			t.Fatalf("ParseShardID(%q) error\n got %s\nwant %s", s, err, wantText)
		}
	}
	bad("", `stream: invalid shard id "": no shard index, want "shardId-" and 12 digits`)
	bad("shardId-", `stream: invalid shard id "shardId-": no shard index, want "shardId-" and 12 digits`)
	bad("shardId-abc", `stream: invalid shard id "shardId-abc": byte 8 is 'a', want "shardId-" and 12 digits`)
	bad("shardid-000000000000", `stream: invalid shard id "shardid-000000000000": byte 0 is 's', want "shardId-" and 12 digits`)
	bad("foo-5", `stream: invalid shard id "foo-5": byte 0 is 'f', want "shardId-" and 12 digits`)
	bad("shardId--1", `stream: invalid shard id "shardId--1": byte 8 is '-', want "shardId-" and 12 digits`)
	bad("shardId-+1", `stream: invalid shard id "shardId-+1": byte 8 is '+', want "shardId-" and 12 digits`)
	bad(" shardId-000000000000", `stream: invalid shard id " shardId-000000000000": byte 0 is ' ', want "shardId-" and 12 digits`)
	bad("shardId-000000000000 ", `stream: invalid shard id "shardId-000000000000 ": byte 20 is ' ', want "shardId-" and 12 digits`)
	bad("-1", `stream: invalid shard id "-1": byte 0 is '-', want "shardId-" and 12 digits`)
	bad("shardId-002147483648", `stream: invalid shard id "shardId-002147483648": shard index greater than 2^31-1`)
	bad("99999999999999999999999", `stream: invalid shard id "99999999999999999999999": shard index greater than 2^31-1`)
}
