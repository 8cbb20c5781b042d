package stream

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/segment"
)

const (
	reshardCrashEnv     = "SLUICE_STREAM_CRASH_DIR"
	reshardCrashIterEnv = "SLUICE_STREAM_CRASH_ITER"
)

func crashConfig(dir string) Config {
	cfg := testConfig(dir, nil)
	cfg.Durability = segment.Fsync
	cfg.Segment.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

// reshardCrashChild puts records and reshards stream "k" until it is
// killed. It prints "ack <data>" for every acknowledged record and "shards
// <n>" after every acknowledged reshard, n being the stream's shard count.
func reshardCrashChild() int {
	dir := os.Getenv(reshardCrashEnv)
	it, _ := strconv.Atoi(os.Getenv(reshardCrashIterEnv))
	m, err := Open(crashConfig(dir))
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	if it == 0 {
		if err := m.CreateStream("k", 2); err != nil {
			fmt.Fprintln(os.Stderr, "create:", err)
			return 1
		}
	}
	out := bufio.NewWriter(os.Stdout)
	rng := rand.New(rand.NewPCG(uint64(it), 3))
	for round := 0; round < 5000; round++ {
		var recs []PutEntry
		for j := range 4 {
			d := fmt.Sprintf("i%d-r%d-j%d", it, round, j)
			recs = append(recs, PutEntry{PartitionKey: d, Data: []byte(d)})
		}
		res, err := m.PutRecords("k", recs)
		if err != nil {
			fmt.Fprintln(os.Stderr, "put:", err)
			return 1
		}
		for j, r := range res {
			if r.Err == nil {
				fmt.Fprintf(out, "ack %s\n", recs[j].Data)
			}
		}
		out.Flush()
		if round%3 != 2 {
			continue
		}
		info, _ := m.DescribeStream("k")
		var open []ShardInfo
		for _, sh := range info.Shards {
			if sh.EndingSequenceNumber == "" {
				open = append(open, sh)
			}
		}
		switch {
		case len(open) < 6 && rng.IntN(2) == 0:
			sh := open[rng.IntN(len(open))]
			k := sh.HashKeyRange.Start.add(HashKey{Hi: sh.HashKeyRange.End.Hi/2 - sh.HashKeyRange.Start.Hi/2})
			err = m.SplitShard("k", sh.ShardID, k.String())
		case len(open) > 1 && rng.IntN(2) == 0:
			var a, b ShardInfo
			for _, x := range open {
				for _, y := range open {
					if x.HashKeyRange.End != MaxHashKey() && x.HashKeyRange.End.inc() == y.HashKeyRange.Start {
						a, b = x, y
					}
				}
			}
			err = m.MergeShards("k", a.ShardID, b.ShardID)
		default:
			target := min(max(1, len(open)+rng.IntN(3)-1), 6)
			_, _, err = m.UpdateShardCount("k", target, ScalingUniform)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "reshard:", err)
			return 1
		}
		info, _ = m.DescribeStream("k")
		fmt.Fprintf(out, "shards %d\n", len(info.Shards))
		out.Flush()
	}
	return 0
}

// TestReshardCrash kills a child that puts and reshards with SIGKILL at
// random moments. After each kill, reopening must keep every acknowledged
// record (readable exactly once by following the lineage), every
// acknowledged reshard, closed shards with their EndingSequenceNumber and
// ChildShards, and open shards that tile the key space.
func TestReshardCrash(t *testing.T) {
	iterations := 4
	if testing.Short() {
		iterations = 2
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(9, uint64(time.Now().UnixNano())))
	acked := make(map[string]bool)
	minShards := 2
	for it := range iterations {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), reshardCrashEnv+"="+dir, reshardCrashIterEnv+"="+strconv.Itoa(it))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan []string, 1)
		started := make(chan struct{})
		go func() {
			var got []string
			closed := false
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				// Kill only after the first reshard was acknowledged.
				if strings.HasPrefix(sc.Text(), "shards ") && !closed {
					close(started)
					closed = true
				}
				got = append(got, sc.Text())
			}
			if !closed {
				close(started)
			}
			lines <- got
		}()
		select {
		case <-started:
		case <-time.After(30 * time.Second):
		}
		time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		got := <-lines
		_ = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("iteration %d: child was not killed: %s", it, stderr.String())
		}
		for _, line := range got {
			if d, ok := strings.CutPrefix(line, "ack "); ok {
				acked[d] = true
			} else if n, ok := strings.CutPrefix(line, "shards "); ok {
				v, err := strconv.Atoi(n)
				if err == nil {
					minShards = max(minShards, v)
				}
			}
		}

		m, err := Open(crashConfig(dir))
		if err != nil {
			t.Fatalf("iteration %d: reopen: %v", it, err)
		}
		info, err := m.DescribeStream("k")
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Shards) < minShards || info.Status != StatusActive {
			t.Fatalf("iteration %d: %d shards (%s), %d acknowledged", it, len(info.Shards), info.Status, minShards)
		}
		openRanges(t, m, "k")
		seen := make(map[string]int)
		for _, d := range readLineage(t, m, "k") {
			seen[d]++
			if seen[d] > 1 {
				t.Fatalf("iteration %d: record %s read twice", it, d)
			}
		}
		for d := range acked {
			if seen[d] != 1 {
				t.Fatalf("iteration %d: acknowledged record %s lost", it, d)
			}
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("iteration %d: %d records acknowledged, %d shards", it, len(acked), len(info.Shards))
	}
}
