package stream

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/segment"
)

// stateSnapshot is everything the stream-state operations keep, read back
// through the public API.
type stateSnapshot struct {
	Info      StreamInfo
	Tags      []Tag
	Policy    string
	Consumers []ConsumerInfo
	ConsTags  [][]Tag
	ConsPol   []string
	Account   BillingCommitment
	Limits    AccountLimits
}

func snapshotState(t *testing.T, m *Manager, name string) stateSnapshot {
	t.Helper()
	var s stateSnapshot
	s.Info = describe(t, m, name)
	var err error
	s.Tags, err = m.ListTagsForResource(s.Info.ARN)
	mustOK(t, err)
	s.Policy, err = m.GetResourcePolicy(s.Info.ARN)
	mustOK(t, err)
	s.Consumers, _, err = m.ListStreamConsumers(s.Info.ARN, "", 0, 0)
	mustOK(t, err)
	for _, c := range s.Consumers {
		tags, err := m.ListTagsForResource(c.ARN)
		mustOK(t, err)
		s.ConsTags = append(s.ConsTags, tags)
		p, err := m.GetResourcePolicy(c.ARN)
		mustOK(t, err)
		s.ConsPol = append(s.ConsPol, p)
	}
	s.Account, err = m.DescribeAccountSettings()
	mustOK(t, err)
	s.Limits, err = m.DescribeLimits()
	mustOK(t, err)
	return s
}

func TestStreamStatePersistence(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	cfg := testConfig(dir, clk.Now)
	m, err := Open(cfg)
	mustOK(t, err)
	mustOK(t, m.CreateStreamWith("s", CreateStreamOptions{Mode: ModeOnDemand, Tags: map[string]string{"a": "1"}, MaxRecordSizeKiB: 4096}))
	mustOK(t, m.CreateStream("p", 2))
	arn := describe(t, m, "s").ARN
	_, err = m.UpdateAccountSettings(CommitmentEnabled)
	mustOK(t, err)
	_, err = m.UpdateStreamWarmThroughput("s", 42)
	mustOK(t, err)
	mustOK(t, m.IncreaseStreamRetentionPeriod("s", 100))
	mustOK(t, m.StartStreamEncryption("s", EncryptionKMS, "arn:aws:kms:us-east-1:000000000000:key/k"))
	_, err = m.EnableEnhancedMonitoring("s", []string{"IncomingBytes", "IteratorAgeMilliseconds"})
	mustOK(t, err)
	mustOK(t, m.AddTagsToStream("s", map[string]string{"b": "2"}))
	mustOK(t, m.PutResourcePolicy(arn, `{"Version":"2012-10-17"}`))
	c, err := m.RegisterStreamConsumer(arn, "app", map[string]string{"ct": "v"})
	mustOK(t, err)
	mustOK(t, m.PutResourcePolicy(c.ARN, `{"consumer":true}`))
	_, err = m.RegisterStreamConsumer(arn, "app2", nil)
	mustOK(t, err)
	before := snapshotState(t, m, "s")
	mustOK(t, m.Close())

	m2 := openTest(t, cfg)
	after := snapshotState(t, m2, "s")
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("state changed across reopen:\nbefore %+v\nafter  %+v", before, after)
	}
	if after.Info.RetentionHours != 100 || after.Info.Mode != ModeOnDemand || after.Info.MaxRecordSizeKiB != 4096 ||
		after.Info.KeyID == "" || after.Info.WarmThroughputMiBps != 42 || len(after.Consumers) != 2 ||
		after.Policy != `{"Version":"2012-10-17"}` || after.Account.Status != CommitmentEnabled {
		t.Fatalf("reopened state: %+v", after)
	}
	s, _ := m2.stream("s")
	if got := m2.shardConfig(s, 0).Retention; got != 100*time.Hour {
		t.Fatalf("shard logs reopened with retention %v", got)
	}
	if p := describe(t, m2, "p"); p.Mode != ModeProvisioned || p.RetentionHours != 24 {
		t.Fatalf("untouched stream: %+v", p)
	}
}

// TestStreamStateOldMetadata opens a streams.json written before settings
// existed: every stream gets the defaults.
func TestStreamStateOldMetadata(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir, nil)
	m, err := Open(cfg)
	mustOK(t, err)
	mustOK(t, m.CreateStream("s", 1))
	mustOK(t, m.Close())
	mf, err := readMeta(dir)
	mustOK(t, err)
	mf.Streams[0].Settings = nil
	mustOK(t, writeMeta(dir, mf))
	m2 := openTest(t, cfg)
	info := describe(t, m2, "s")
	if info.Mode != ModeProvisioned || info.MaxRecordSizeKiB != 1024 || info.EncryptionType != EncryptionNone || info.RetentionHours != 24 {
		t.Fatalf("defaults: %+v", info)
	}
}

const stateCrashEnv = "SLUICE_STREAM_STATE_CRASH_CHILD" // data dir of the child

// stateCrashChild changes stream state in a loop in one process and prints
// "<i>" after operation i returned (was acknowledged); the parent kills it
// with SIGKILL.
func stateCrashChild() int {
	dir := os.Getenv(stateCrashEnv)
	cfg := testConfig(dir, nil)
	cfg.Durability = segment.Fsync
	m, err := Open(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	if _, err := m.DescribeStream("s"); err != nil {
		if err := m.CreateStream("s", 1); err != nil {
			fmt.Fprintln(os.Stderr, "create:", err)
			return 1
		}
	}
	info, _ := m.DescribeStream("s")
	out := bufio.NewWriter(os.Stdout)
	start := 0
	if tags, _, err := m.ListTagsForStream("s", "", 0); err == nil {
		for _, tg := range tags {
			if tg.Key == "n" {
				start, _ = strconv.Atoi(tg.Value)
			}
		}
	}
	for i := start + 1; i < 1_000_000; i++ {
		var err error
		switch i % 4 {
		case 0:
			err = m.AddTagsToStream("s", map[string]string{"n": strconv.Itoa(i)})
		case 1:
			err = m.TagResource(info.ARN, map[string]string{"n": strconv.Itoa(i)})
		case 2:
			err = m.UpdateMaxRecordSize("s", 1024+i%9000)
			if err == nil {
				err = m.AddTagsToStream("s", map[string]string{"n": strconv.Itoa(i)})
			}
		case 3:
			var c ConsumerInfo
			c, err = m.RegisterStreamConsumer(info.ARN, "c"+strconv.Itoa(i), nil)
			if err == nil {
				err = m.DeregisterStreamConsumer("", "", c.ARN)
			}
			if err == nil {
				err = m.AddTagsToStream("s", map[string]string{"n": strconv.Itoa(i)})
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "op", i, ":", err)
			return 1
		}
		fmt.Fprintln(out, i)
		out.Flush()
	}
	return 0
}

// TestStreamStateCrash kills a child that rewrites streams.json with
// SIGKILL at random moments: every acknowledged change must be there after
// reopening, and the metadata must always open.
func TestStreamStateCrash(t *testing.T) {
	iterations := 8
	if testing.Short() {
		iterations = 3
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	prev := 0 // the value stored after the previous iteration
	for it := 0; it < iterations; it++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), stateCrashEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		mustOK(t, err)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		mustOK(t, cmd.Start())
		lines := make(chan []string, 1)
		started := make(chan struct{})
		go func() {
			var got []string
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if len(got) == 0 {
					close(started)
				}
				got = append(got, sc.Text())
			}
			if len(got) == 0 {
				close(started)
			}
			lines <- got
		}()
		// Kill while it works: after its first acknowledged change (start-up
		// is slow under -race), then a random delay.
		select {
		case <-started:
		case <-time.After(30 * time.Second):
		}
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		got := <-lines
		werr := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("iteration %d: child was not killed (%v): %s", it, werr, stderr.String())
		}
		if len(got) == 0 {
			t.Fatalf("iteration %d: no change acknowledged before the kill: %s", it, stderr.String())
		}
		last := 0
		for _, line := range got {
			if n, err := strconv.Atoi(line); err == nil {
				last = n
			}
		}
		m, err := Open(testConfig(dir, nil))
		if err != nil {
			t.Fatalf("iteration %d: reopen after kill: %v", it, err)
		}
		tags, _, err := m.ListTagsForStream("s", "", 0)
		if err != nil {
			m.Close()
			t.Fatalf("iteration %d: %v", it, err)
		}
		stored := 0
		for _, tg := range tags {
			if tg.Key == "n" {
				stored, _ = strconv.Atoi(tg.Value)
			}
		}
		// The op after the last acknowledged one may have been written
		// before the kill, never more.
		base := max(last, prev)
		if stored < base || stored > base+1 {
			m.Close()
			t.Fatalf("iteration %d: acknowledged op %d (before: %d), metadata holds %d", it, last, prev, stored)
		}
		prev = stored
		info, _ := m.DescribeStream("s")
		cons, _, _ := m.ListStreamConsumers(info.ARN, "", 0, 0)
		if len(cons) > 1 {
			t.Fatalf("iteration %d: %d consumers left, at most the one in flight may be", it, len(cons))
		}
		if len(cons) == 1 {
			// A consumer registered but not yet deregistered at the kill:
			// clean up so that the next child starts from a known state.
			_ = m.DeregisterStreamConsumer("", "", cons[0].ARN)
		}
		mustOK(t, m.Close())
		t.Logf("iteration %d: last acknowledged %d, stored %d", it, last, stored)
	}
}
