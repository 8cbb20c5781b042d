package segment

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	crashChildEnv = "SLUICE_SEGMENT_CRASH_CHILD" // data dir of the child's log
	crashIterEnv  = "SLUICE_SEGMENT_CRASH_ITER"
)

// crashRecord is the deterministic content of record c of writer w in
// iteration it, so that the parent can check every byte.
func crashRecord(it, w, c int) Record {
	head := fmt.Sprintf("i%d-w%d-c%d|", it, w, c)
	n := (it*7919 + w*104729 + c*31) % 3000
	data := make([]byte, len(head)+n)
	copy(data, head)
	for i := len(head); i < len(data); i++ {
		data[i] = byte(i*131 + c)
	}
	return Record{PartitionKey: []byte(fmt.Sprintf("w%d", w)), Data: data}
}

// crashChild appends from several goroutines in Fsync mode and prints one
// line per acknowledged Append: "first count writer counter". The parent
// kills it with SIGKILL at a random moment.
func crashChild() int {
	dir := os.Getenv(crashChildEnv)
	it, _ := strconv.Atoi(os.Getenv(crashIterEnv))
	l, err := Open(Config{Dirs: []string{dir}, FragmentBytes: 256 << 10, InitialFragmentBytes: 32 << 10, MaxStripeBytes: 16 << 10, MaxRecordBytes: 64 << 10, Durability: Fsync})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(it), uint64(w)))
			for c := 0; c < 1_000_000; {
				n := 1 + rng.IntN(8)
				batch := make([]Record, n)
				for i := range batch {
					batch[i] = crashRecord(it, w, c+i)
				}
				first, err := l.Append(batch)
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintf(out, "%d %d %d %d\n", first, n, w, c)
				out.Flush()
				mu.Unlock()
				c += n
			}
		})
	}
	wg.Wait()
	return 0
}

type crashAck struct {
	first   uint64
	n, w, c int
	it      int
}

// TestSegmentCrash kills a child process that appends in Fsync mode with
// SIGKILL at random moments; after each kill, reopening must keep every
// acknowledged record byte for byte, in order, without duplicates.
func TestSegmentCrash(t *testing.T) {
	iterations := 24
	if testing.Short() {
		iterations = 5
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(42, uint64(time.Now().UnixNano())))
	var acks []crashAck
	for it := 0; it < iterations; it++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashIterEnv+"="+strconv.Itoa(it))
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
		// Wait for the first ack (recovery of a growing log takes a while
		// on a loaded machine), so that the kill lands while appending,
		// then kill after a random delay.
		select {
		case <-started:
		case <-time.After(30 * time.Second):
		}
		time.Sleep(time.Duration(rng.IntN(250)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		got := <-lines
		werr := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("iteration %d: child was not killed (%v): %s", it, werr, stderr.String())
		}
		for _, line := range got {
			f := strings.Fields(line)
			if len(f) != 4 {
				continue // a line cut by the kill was not fully acknowledged
			}
			first, _ := strconv.ParseUint(f[0], 10, 64)
			n, _ := strconv.Atoi(f[1])
			w, _ := strconv.Atoi(f[2])
			c, _ := strconv.Atoi(f[3])
			acks = append(acks, crashAck{first: first, n: n, w: w, c: c, it: it})
		}
		if len(got) == 0 {
			t.Fatalf("iteration %d: no append acknowledged before the kill: %s", it, stderr.String())
		}
		verifyCrashLog(t, dir, acks, it)
	}
	t.Logf("%d iterations, %d acknowledged appends", iterations, len(acks))
}

func verifyCrashLog(t *testing.T, dir string, acks []crashAck, it int) {
	t.Helper()
	l, err := Open(Config{Dirs: []string{dir}, FragmentBytes: 256 << 10, InitialFragmentBytes: 32 << 10, MaxStripeBytes: 16 << 10, MaxRecordBytes: 64 << 10, Logger: quietLogger})
	if err != nil {
		t.Fatalf("iteration %d: reopen: %v", it, err)
	}
	defer l.Close()
	rep := l.Recovery()
	if len(rep.Lost) > 0 {
		t.Fatalf("iteration %d: recovery lost records: %s", it, rep.String())
	}
	for _, p := range rep.Problems {
		// An append in flight at the kill may have reached some fragment
		// files and not others: it is cut (torn) or, with k intact chunks,
		// completed by repair. Anything else is damage.
		if !p.Repaired {
			t.Fatalf("iteration %d: unexpected recovery problem: %s", it, p.String())
		}
	}
	all := readAll(t, l, 0)
	// Every record is one the child made, once, and per writer in order.
	seen := map[string]uint64{}
	lastC := map[string]int{}
	for _, r := range all {
		head, _, ok := bytes.Cut(r.Data, []byte("|"))
		if !ok {
			t.Fatalf("iteration %d: record %d is not a child record: %q", it, r.Seq, r.Data[:min(40, len(r.Data))])
		}
		var ri, rw, rc int
		if _, err := fmt.Sscanf(string(head), "i%d-w%d-c%d", &ri, &rw, &rc); err != nil {
			t.Fatalf("iteration %d: record %d header %q: %v", it, r.Seq, head, err)
		}
		if !bytes.Equal(r.Data, crashRecord(ri, rw, rc).Data) {
			t.Fatalf("iteration %d: record %d (%s) has wrong bytes", it, r.Seq, head)
		}
		if prev, dup := seen[string(head)]; dup {
			t.Fatalf("iteration %d: record %s at %d and %d", it, head, prev, r.Seq)
		}
		seen[string(head)] = r.Seq
		key := fmt.Sprintf("%d/%d", ri, rw)
		if c, ok := lastC[key]; ok && rc <= c {
			t.Fatalf("iteration %d: writer %s out of order: c%d after c%d", it, key, rc, c)
		}
		lastC[key] = rc
	}
	for _, a := range acks {
		for i := 0; i < a.n; i++ {
			pos := a.first + uint64(i)
			want := crashRecord(a.it, a.w, a.c+i)
			if pos >= uint64(len(all)) || !bytes.Equal(all[pos].Data, want.Data) || !bytes.Equal(all[pos].PartitionKey, want.PartitionKey) {
				t.Fatalf("iteration %d: acknowledged record i%d-w%d-c%d at %d is missing or wrong (log has %d)", it, a.it, a.w, a.c+i, pos, len(all))
			}
		}
	}
}
