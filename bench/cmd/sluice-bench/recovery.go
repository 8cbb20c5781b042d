package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/bench/internal/apiload"
	"github.com/sluicehq/sluice/bench/internal/charts"
	"github.com/sluicehq/sluice/bench/internal/machine"
	"github.com/sluicehq/sluice/bench/internal/stats"
	"github.com/sluicehq/sluice/bench/report"
	"github.com/valyala/fastjson"
	"golang.org/x/sys/unix"
)

const (
	recoverySection = "recovery"
	recoveryStream  = "recovery"
	recoveryBatch   = 500 // records per PutRecords request of the fill
)

type recoveryOptions struct {
	quick      bool
	runs       int
	sizes      []int64 // bytes of record data per pass
	shards     int
	recordSize int
	seed       uint64
	timeout    time.Duration // longest restart (until the first records)
	out, dir   string
	sluiceBin  string
}

func parseRecoveryFlags(args []string) (recoveryOptions, error) {
	fs := flag.NewFlagSet("recovery", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "1 run of 16 MiB and 32 MiB")
	runs := fs.Int("runs", 0, "passes per size (default 3, 1 with --quick)")
	sizes := fs.String("sizes", "", "comma-separated data sizes per pass (default 256MiB,512MiB,1GiB; 16MiB,32MiB with --quick)")
	shards := fs.Int("shards", 4, "shards of the stream")
	recordSize := fs.Int("record-size", 1024, "data bytes per record")
	seed := fs.Uint64("seed", 1, "seed of the record data generator")
	timeout := fs.Duration("timeout", 5*time.Minute, "longest wait for a restarted server to serve the first records")
	out := fs.String("out", "bench/RESULTS.md", "results file whose recovery section is replaced; - for stdout only")
	dir := fs.String("dir", "", "directory for the sluice data directories (default $TMPDIR)")
	sluiceBin := fs.String("sluice-bin", "", "prebuilt sluice binary (default: go build ./cmd/sluice)")
	if err := fs.Parse(args); err != nil {
		return recoveryOptions{}, err
	}
	if fs.NArg() > 0 {
		return recoveryOptions{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o := recoveryOptions{quick: *quick, runs: *runs, shards: *shards, recordSize: *recordSize, seed: *seed,
		timeout: *timeout, out: *out, dir: *dir, sluiceBin: *sluiceBin}
	if o.runs == 0 {
		o.runs = 3
		if o.quick {
			o.runs = 1
		}
	}
	list := *sizes
	if list == "" {
		list = "256MiB,512MiB,1GiB"
		if o.quick {
			list = "16MiB,32MiB"
		}
	}
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := parseByteSize(f)
		if err != nil {
			return o, fmt.Errorf("--sizes: %w", err)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.runs < 1 || o.shards < 1 || o.timeout <= 0 || len(o.sizes) == 0 {
		return o, errors.New("--runs, --shards, --timeout and --sizes must be positive")
	}
	if o.recordSize < recoveryStampLen || o.recordSize > 1<<20 {
		return o, fmt.Errorf("--record-size must be %d to %d bytes", recoveryStampLen, 1<<20)
	}
	for _, s := range o.sizes {
		if s/int64(o.shards)/int64(o.recordSize) < 1 {
			return o, fmt.Errorf("--sizes: %s holds less than one record per shard", fmtSize(float64(s)))
		}
	}
	return o, nil
}

// parseByteSize parses "256MiB", "1GiB", "512KiB" or a plain byte count.
func parseByteSize(s string) (int64, error) {
	mult := int64(1)
	num := s
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a size (e.g. 256MiB, 1GiB)", s)
	}
	return n * mult, nil
}

// recoveryStampLen is the head of every record's data: the seed, the shard
// and the record's index in the shard (8+4+8 bytes), then the seeded bytes.
const recoveryStampLen = 20

// recoveryData writes into buf (size bytes) the data of record j of shard
// sh under seed: a stamp, then bytes of a PCG stream seeded by (seed,
// shard, j). Anyone with the seed recomputes every byte.
func recoveryData(buf []byte, seed uint64, sh int, j int64) []byte {
	binary.BigEndian.PutUint64(buf[0:], seed)
	binary.BigEndian.PutUint32(buf[8:], uint32(sh))
	binary.BigEndian.PutUint64(buf[12:], uint64(j))
	r := rand.New(rand.NewPCG(seed, uint64(sh)<<48^uint64(j)))
	i := recoveryStampLen
	for ; i+8 <= len(buf); i += 8 {
		binary.LittleEndian.PutUint64(buf[i:], r.Uint64())
	}
	if i < len(buf) {
		var t [8]byte
		binary.LittleEndian.PutUint64(t[:], r.Uint64())
		copy(buf[i:], t[:])
	}
	return buf
}

func recoveryKey(sh int, j int64) string {
	return "p" + strconv.Itoa(sh) + "-" + strconv.FormatInt(j, 10)
}

// recoveryPass is one size in one run: fill, kill, restart, kill, lose
// fragments, restart.
type recoveryPass struct {
	size       int64
	perShard   int64 // records per shard
	fill       time.Duration
	ready      time.Duration // restart after kill -9 until /readyz 200
	first      time.Duration // ... until every shard served its first records
	read       time.Duration // full read of shard 0 after that restart
	coldReady  time.Duration // the same after another kill -9 with the files evicted from the page cache
	coldFirst  time.Duration
	lostReady  time.Duration // the same after deleting 2 fragments of every segment
	lostFirst  time.Duration
	lostRead   time.Duration
	segments   int // segments found (over all shards) before the deletion
	deleted    int // fragment files deleted
	recreated  int // fragment files after the second restart
	verified   int64
	diskBefore int64 // bytes of the data directory after the fill
}

func runRecovery(ctx context.Context, args []string) error {
	o, err := parseRecoveryFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	root, info, err := runDir(o.dir, "recovery")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	// One data directory exists at a time: every size must fit alone.
	var skipped []string
	var sizes []int64
	free, ferr := freeBytes(root)
	for _, s := range o.sizes {
		need := recoveryDiskNeed(o, s)
		if ferr == nil && need > free {
			skipped = append(skipped, fmt.Sprintf("%s (needs about %s of disk, %s free)", fmtSize(float64(s)), fmtSize(float64(need)), fmtSize(float64(free))))
			continue
		}
		sizes = append(sizes, s)
	}
	if len(skipped) > 0 {
		logf("sizes skipped for lack of disk space: %s", strings.Join(skipped, "; "))
	}
	if len(sizes) == 0 {
		return fmt.Errorf("no size fits on the disk of %s: %s", root, strings.Join(skipped, "; "))
	}
	o.sizes = sizes
	bin := o.sluiceBin
	if bin == "" {
		logf("building ./cmd/sluice")
		if bin, err = buildSluice(root); err != nil {
			return err
		}
	}
	logf("recovery suite: %d run(s) of sizes %s, %d shards, %s records, --durability async", o.runs, sizeList(o.sizes), o.shards, sizeName(o.recordSize))
	began := time.Now()
	var passes []recoveryPass
	for i := range o.runs {
		for _, size := range o.sizes {
			if ctx.Err() != nil {
				return errors.New("interrupted; results not written")
			}
			p, err := runRecoveryPass(ctx, o, bin, root, size)
			if err != nil {
				return fmt.Errorf("%s, run %d: %w", fmtSize(float64(size)), i+1, err)
			}
			passes = append(passes, p)
			logf("[run %d/%d] %s: filled in %v; after kill -9: ready %v, first records %v, shard 0 read %s rec/s; cold cache: ready %v, first records %v; 2 of %d fragments lost (%d files): ready %v, first records %v, read %s rec/s",
				i+1, o.runs, fmtSize(float64(size)), p.fill.Round(time.Millisecond), p.ready.Round(time.Millisecond), p.first.Round(time.Millisecond),
				fmtRate(float64(p.perShard)/p.read.Seconds()), p.coldReady.Round(time.Millisecond), p.coldFirst.Round(time.Millisecond), 6, p.deleted, p.lostReady.Round(time.Millisecond), p.lostFirst.Round(time.Millisecond),
				fmtRate(float64(p.perShard)/p.lostRead.Seconds()))
		}
	}
	if ctx.Err() != nil {
		return errors.New("interrupted; results not written")
	}
	body := recoverySectionText(o, info, time.Since(began), skipped, passes)
	return publish(o.out, recoverySection, body, func() (string, error) { return recoveryChart(o, passes) })
}

// recoveryDiskNeed is the disk a pass of size bytes takes at most: the
// records with parity (1.5x) and framing, every shard's last segment
// preallocated in full, and a margin.
func recoveryDiskNeed(o recoveryOptions, size int64) int64 {
	return size*16/10 + int64(o.shards)*shardDiskBytes + 1<<30
}

func sizeList(s []int64) string {
	var n []string
	for _, x := range s {
		n = append(n, fmtSize(float64(x)))
	}
	return strings.Join(n, ", ")
}

// launchSluice starts the sluice binary on dataDir (kept when it stops)
// without waiting for it.
func launchSluice(bin, dataDir string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	tcpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--data-dir", dataDir, "--api-addr", addr, "--tcp-addr", tcpAddr,
		"--durability", "async", "--log-level", "warn")
	s := &server{name: "sluice async", addr: addr, cmd: cmd, exited: make(chan struct{}), stderr: &tailBuffer{}}
	cmd.Stdout, cmd.Stderr = s.stderr, s.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start sluice: %w", err)
	}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	return s, nil
}

// waitReady polls /readyz every 2 ms until it answers 200 and returns the
// time since t0.
func waitReady(s *server, t0 time.Time, timeout time.Duration) (time.Duration, error) {
	cl := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	url := "http://" + s.addr + "/readyz"
	deadline := t0.Add(timeout)
	for {
		if resp, err := cl.Get(url); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(t0), nil
			}
		}
		select {
		case <-s.exited:
			return 0, fmt.Errorf("sluice exited during start-up: %s", s.stderr.b)
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("sluice not ready after %v: %s", timeout, s.stderr.b)
		}
	}
}

// kill9 ends the server with SIGKILL and waits for it.
func kill9(s *server) {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

func runRecoveryPass(ctx context.Context, o recoveryOptions, bin, root string, size int64) (recoveryPass, error) {
	p := recoveryPass{size: size, perShard: size / int64(o.shards) / int64(o.recordSize)}
	dataDir, err := os.MkdirTemp(root, "data-")
	if err != nil {
		return p, err
	}
	defer os.RemoveAll(dataDir)
	var srv *server
	defer func() {
		if srv != nil {
			kill9(srv)
		}
	}()
	if srv, err = launchSluice(bin, dataDir); err != nil {
		return p, err
	}
	if _, err := waitReady(srv, time.Now(), 30*time.Second); err != nil {
		return p, err
	}
	if err := createActive(srv.addr, recoveryStream, o.shards, time.Now().Add(30*time.Second)); err != nil {
		return p, err
	}
	cl := apiload.NewClient(srv.addr)
	ranges, err := listShardRanges(cl, recoveryStream)
	cl.Close()
	if err != nil {
		return p, err
	}
	if len(ranges) != o.shards {
		return p, fmt.Errorf("ListShards: %d shards, created %d", len(ranges), o.shards)
	}
	t0 := time.Now()
	if err := recoveryFill(ctx, srv.addr, ranges, p.perShard, o.recordSize, o.seed); err != nil {
		return p, fmt.Errorf("fill: %w", err)
	}
	p.fill = time.Since(t0)
	p.diskBefore = dirBytes(dataDir)

	// kill -9 right after the last acknowledgement: async acknowledged
	// every record once it was in the page cache, which outlives the
	// process.
	kill9(srv)
	srv = nil
	restart := func() (ready, first time.Duration, err error) {
		t0 := time.Now()
		if srv, err = launchSluice(bin, dataDir); err != nil {
			return 0, 0, err
		}
		if ready, err = waitReady(srv, t0, o.timeout); err != nil {
			return 0, 0, err
		}
		if err = recoveryFirstRecords(srv.addr, ranges, p.perShard, o.recordSize, o.seed); err != nil {
			return 0, 0, err
		}
		return ready, time.Since(t0), nil
	}
	if p.ready, p.first, err = restart(); err != nil {
		return p, fmt.Errorf("restart after kill -9: %w", err)
	}
	if p.read, err = recoveryReadAll(srv.addr, ranges, p.perShard, o.recordSize, o.seed); err != nil {
		return p, fmt.Errorf("after kill -9: %w", err)
	}
	p.verified += p.perShard * int64(o.shards)

	kill9(srv)
	srv = nil
	if err := evictCache(dataDir); err != nil {
		return p, err
	}
	if p.coldReady, p.coldFirst, err = restart(); err != nil {
		return p, fmt.Errorf("restart after kill -9 with a cold page cache: %w", err)
	}

	kill9(srv)
	srv = nil
	if p.segments, p.deleted, err = deleteFragments(dataDir, 2); err != nil {
		return p, err
	}
	if p.lostReady, p.lostFirst, err = restart(); err != nil {
		return p, fmt.Errorf("restart with 2 fragments of every segment deleted: %w", err)
	}
	if p.lostRead, err = recoveryReadAll(srv.addr, ranges, p.perShard, o.recordSize, o.seed); err != nil {
		return p, fmt.Errorf("with 2 fragments of every segment deleted: %w", err)
	}
	p.verified += p.perShard * int64(o.shards)
	frags, _ := filepath.Glob(filepath.Join(dataDir, "streams", "*", "shards", "*", "*.frag"))
	p.recreated = len(frags)
	srv.stop()
	srv = nil
	return p, nil
}

// evictCache writes back and drops from the page cache every file under
// dir (fsync, then posix_fadvise DONTNEED), as after a reboot, without
// touching other files' pages. The server is not running: no mapping
// holds the pages.
func evictCache(dir string) error {
	return filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := unix.Fsync(int(f.Fd())); err != nil {
			return fmt.Errorf("fsync %s: %w", path, err)
		}
		if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
			return fmt.Errorf("fadvise %s: %w", path, err)
		}
		return nil
	})
}

// recoveryFill writes perShard records into every shard, one connection
// per shard, each record placed by an ExplicitHashKey (the shard's
// starting hash key), in order: shard sh holds records 0..perShard-1 of sh.
func recoveryFill(ctx context.Context, addr string, ranges []shardRange, perShard int64, size int, seed uint64) error {
	errs := make([]error, len(ranges))
	var wg sync.WaitGroup
	for sh, r := range ranges {
		wg.Go(func() {
			c := apiload.NewClient(addr)
			defer c.Close()
			buf := make([]byte, size)
			enc := make([]byte, base64.StdEncoding.EncodedLen(size))
			var body bytes.Buffer
			hashKey := r.start.String()
			for j := int64(0); j < perShard; {
				if ctx.Err() != nil {
					errs[sh] = ctx.Err()
					return
				}
				n := min(int64(recoveryBatch), perShard-j)
				body.Reset()
				body.WriteString(`{"StreamName":"` + recoveryStream + `","Records":[`)
				for i := range n {
					if i > 0 {
						body.WriteByte(',')
					}
					base64.StdEncoding.Encode(enc, recoveryData(buf, seed, sh, j+i))
					body.WriteString(`{"Data":"`)
					body.Write(enc)
					body.WriteString(`","PartitionKey":"` + recoveryKey(sh, j+i) + `","ExplicitHashKey":"` + hashKey + `"}`)
				}
				body.WriteString(`]}`)
				b, err := c.Do(apiload.OpPutRecords, body.Bytes())
				if err == nil {
					err = apiload.PutAcked(int(n))(b)
				}
				if err == nil {
					if got := bytes.Count(b, []byte(`"ShardId":"`+r.id+`"`)); got != int(n) {
						err = fmt.Errorf("%w: %d of %d records acknowledged in %s", apiload.ErrVerify, got, n, r.id)
					}
				}
				if err != nil {
					errs[sh] = fmt.Errorf("%s, records %d-%d: %w", r.id, j, j+n-1, err)
					return
				}
				j += n
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// recoveryFirstRecords asks every shard for its first records from
// TRIM_HORIZON (in parallel) and checks them: records 0, 1, ... of the
// shard, byte for byte.
func recoveryFirstRecords(addr string, ranges []shardRange, perShard int64, size int, seed uint64) error {
	errs := make([]error, len(ranges))
	var wg sync.WaitGroup
	for sh, r := range ranges {
		wg.Go(func() {
			c := apiload.NewClient(addr)
			defer c.Close()
			iter, err := trimHorizon(c, r.id)
			if err != nil {
				errs[sh] = err
				return
			}
			b, err := c.Do(apiload.OpGetRecords, []byte(`{"ShardIterator":"`+iter+`","Limit":10}`))
			if err != nil {
				errs[sh] = fmt.Errorf("GetRecords %s: %w", r.id, err)
				return
			}
			v := newRecordVerifier(seed, sh, size)
			n, _, err := v.check(b)
			if err == nil && n < min(10, int(perShard)) {
				err = fmt.Errorf("%w: the first GetRecords of %s from TRIM_HORIZON returned %d records, want %d",
					apiload.ErrVerify, r.id, n, min(10, perShard))
			}
			errs[sh] = err
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func trimHorizon(c *apiload.Client, shardID string) (string, error) {
	b, err := c.Do(apiload.OpGetShardIterator, []byte(`{"StreamName":"`+recoveryStream+`","ShardId":"`+shardID+`","ShardIteratorType":"TRIM_HORIZON"}`))
	if err != nil {
		return "", fmt.Errorf("GetShardIterator %s: %w", shardID, err)
	}
	it := fastjson.GetString(b, "ShardIterator")
	if it == "" {
		return "", fmt.Errorf("GetShardIterator %s: no iterator: %.200s", shardID, b)
	}
	return it, nil
}

// recordVerifier checks the records of one shard in order against the
// generator.
type recordVerifier struct {
	seed      uint64
	shard     int
	next      int64 // index of the next record expected
	want, got []byte
	p         fastjson.Parser
}

func newRecordVerifier(seed uint64, shard, size int) *recordVerifier {
	// got has room for any data of the expected base64 length.
	return &recordVerifier{seed: seed, shard: shard, want: make([]byte, size),
		got: make([]byte, base64.StdEncoding.DecodedLen(base64.StdEncoding.EncodedLen(size)))}
}

// check verifies the records of one GetRecords response and returns their
// count and NextShardIterator.
func (v *recordVerifier) check(b []byte) (int, string, error) {
	js, err := v.p.ParseBytes(b)
	if err != nil {
		return 0, "", fmt.Errorf("GetRecords: %w", err)
	}
	if js.Get("Records") == nil {
		return 0, "", fmt.Errorf("GetRecords answer without Records: %.200s", b)
	}
	recs := js.GetArray("Records")
	for _, r := range recs {
		j := v.next
		d := r.GetStringBytes("Data")
		if len(d) != base64.StdEncoding.EncodedLen(len(v.want)) {
			return 0, "", fmt.Errorf("%w: shard %d record %d: %d base64 characters of data, want %d", apiload.ErrVerify, v.shard, j,
				len(d), base64.StdEncoding.EncodedLen(len(v.want)))
		}
		n, err := base64.StdEncoding.Decode(v.got, d)
		if err != nil {
			return 0, "", fmt.Errorf("%w: shard %d record %d: data: %w", apiload.ErrVerify, v.shard, j, err)
		}
		if n != len(v.want) {
			return 0, "", fmt.Errorf("%w: shard %d record %d: data of %d bytes, want %d", apiload.ErrVerify, v.shard, j, n, len(v.want))
		}
		if !bytes.Equal(v.got[:n], recoveryData(v.want, v.seed, v.shard, j)) {
			return 0, "", fmt.Errorf("%w: shard %d record %d: data differs from what was put (stamp read %x)", apiload.ErrVerify, v.shard, j, v.got[:min(n, recoveryStampLen)])
		}
		if pk := string(r.GetStringBytes("PartitionKey")); pk != recoveryKey(v.shard, j) {
			return 0, "", fmt.Errorf("%w: shard %d record %d: partition key %q, put with %q", apiload.ErrVerify, v.shard, j, pk, recoveryKey(v.shard, j))
		}
		v.next++
	}
	return len(recs), string(js.GetStringBytes("NextShardIterator")), nil
}

// recoveryReadAll reads shard 0 from TRIM_HORIZON to its end, timed (the
// responses are kept and verified after the clock stops), then reads and
// verifies the other shards untimed. Every shard must hold exactly its
// perShard records, in order, byte for byte.
func recoveryReadAll(addr string, ranges []shardRange, perShard int64, size int, seed uint64) (time.Duration, error) {
	c := apiload.NewClient(addr)
	defer c.Close()
	var took time.Duration
	for sh, r := range ranges {
		iter, err := trimHorizon(c, r.id)
		if err != nil {
			return 0, err
		}
		v := newRecordVerifier(seed, sh, size)
		var kept [][]byte
		var p fastjson.Parser
		t0 := time.Now()
		for calls := 0; iter != ""; calls++ {
			if calls > 1_000_000 {
				return 0, fmt.Errorf("%s: no end after %d GetRecords calls", r.id, calls)
			}
			b, err := c.Do(apiload.OpGetRecords, []byte(`{"ShardIterator":"`+iter+`","Limit":10000}`))
			if err != nil {
				return 0, fmt.Errorf("GetRecords %s: %w", r.id, err)
			}
			var n int
			if sh == 0 {
				// Timed: only what the client must do to go on.
				js, err := p.ParseBytes(b)
				if err != nil {
					return 0, fmt.Errorf("GetRecords %s: %w", r.id, err)
				}
				n, iter = len(js.GetArray("Records")), string(js.GetStringBytes("NextShardIterator"))
				kept = append(kept, bytes.Clone(b))
			} else if n, iter, err = v.check(b); err != nil {
				return 0, fmt.Errorf("%s: %w", r.id, err)
			}
			if n == 0 {
				break
			}
		}
		if sh == 0 {
			took = time.Since(t0)
			for _, b := range kept {
				if _, _, err := v.check(b); err != nil {
					return 0, fmt.Errorf("%s: %w", r.id, err)
				}
			}
		}
		if v.next != perShard {
			return 0, fmt.Errorf("%w: %s read from TRIM_HORIZON to its end holds %d records, %d were put", apiload.ErrVerify, r.id, v.next, perShard)
		}
	}
	return took, nil
}

// deleteFragments deletes the first lose fragment files (indexes 00, 01,
// ...) of every segment of every shard under dataDir (segment/FORMAT.md:
// DIR/BBBBBBBBBBBBBBBBBBBB.JJ.frag) and returns the segments seen and the
// files deleted.
func deleteFragments(dataDir string, lose int) (segments, deleted int, err error) {
	frags, err := filepath.Glob(filepath.Join(dataDir, "streams", "*", "shards", "*", "*.frag"))
	if err != nil {
		return 0, 0, err
	}
	seen := map[string]bool{}
	for _, f := range frags {
		base := filepath.Base(f)
		parts := strings.Split(base, ".")
		if len(parts) != 3 || len(parts[0]) != 20 || len(parts[1]) != 2 {
			return 0, 0, fmt.Errorf("unexpected fragment file name %s", f)
		}
		seen[filepath.Join(filepath.Dir(f), parts[0])] = true
		j, err := strconv.Atoi(parts[1])
		if err != nil {
			return 0, 0, fmt.Errorf("unexpected fragment file name %s", f)
		}
		if j < lose {
			if err := os.Remove(f); err != nil {
				return 0, 0, err
			}
			deleted++
		}
	}
	if len(seen) == 0 {
		return 0, 0, fmt.Errorf("no fragment file under %s", dataDir)
	}
	if deleted != lose*len(seen) {
		return len(seen), deleted, fmt.Errorf("deleted %d fragment files of %d segments, want %d", deleted, len(seen), lose*len(seen))
	}
	return len(seen), deleted, nil
}

// lineFit returns the least-squares slope and intercept of y over x (NaN
// with fewer than two distinct x).
func lineFit(x, y []float64) (slope, intercept float64) {
	n := float64(len(x))
	if len(x) < 2 {
		return nan, nan
	}
	var sx, sy, sxx, sxy float64
	for i := range x {
		sx, sy, sxx, sxy = sx+x[i], sy+y[i], sxx+x[i]*x[i], sxy+x[i]*y[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return nan, nan
	}
	slope = (n*sxy - sx*sy) / d
	return slope, (sy - slope*sx) / n
}

func recoverySectionText(o recoveryOptions, info machine.Info, took time.Duration, skipped []string, passes []recoveryPass) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## Recovery after kill -9 (recovery)\n\n")
	cmd := "go run ./bench/cmd/sluice-bench recovery"
	if o.quick {
		cmd += " --quick"
	}
	w("Generated by `%s`: %d run(s) per size, a stream of %d shards filled with %s records; took %v.\n",
		cmd, o.runs, o.shards, sizeName(o.recordSize), took.Round(time.Second))
	if len(skipped) > 0 {
		w("Sizes skipped for lack of disk space: %s.\n", strings.Join(skipped, "; "))
	}
	w("\n")
	for _, l := range info.Lines() {
		w("%s\n", l)
	}
	w("\nTimes from the restart (exec of the server) until /readyz answers 200 and until every shard has served its\n")
	w("first records from TRIM_HORIZON; median over runs [min-max]. Read: shard 0 from TRIM_HORIZON to its end with\n")
	w("GetRecords (Limit 10000), records/s. Cold cache: the data directory dropped from the page cache before the\n")
	w("restart. lost/healthy: the read with 2 of 6 fragment files of every segment deleted before the restart / the\n")
	w("read after the plain kill -9 of the same run, pair by pair.\n\n")
	bySize := map[int64][]recoveryPass{}
	for _, p := range passes {
		bySize[p.size] = append(bySize[p.size], p)
	}
	col := func(ps []recoveryPass, f func(recoveryPass) float64) []float64 {
		v := make([]float64, len(ps))
		for i, p := range ps {
			v[i] = f(p)
		}
		return v
	}
	secs := func(d func(recoveryPass) time.Duration) func(recoveryPass) float64 {
		return func(p recoveryPass) float64 { return d(p).Seconds() }
	}
	readRate := func(p recoveryPass) float64 { return float64(p.perShard) / p.read.Seconds() }
	lostRate := func(p recoveryPass) float64 { return float64(p.perShard) / p.lostRead.Seconds() }
	tb := report.Table{Header: []string{"data", "records", "fill", "ready after kill -9", "first records", "read shard 0",
		"ready, cold cache", "first records", "ready, 2 of 6 lost", "first records", "read shard 0", "lost / healthy read"},
		Align: []byte{'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'}}
	sum := func(ps []recoveryPass, f func(recoveryPass) float64, format func(float64) string) string {
		return fmtSummary(stats.Summarize(col(ps, f)), format)
	}
	for _, s := range o.sizes {
		ps := bySize[s]
		if len(ps) == 0 {
			continue
		}
		fillRate := func(p recoveryPass) float64 { return float64(p.size) / p.fill.Seconds() / 1e6 }
		tb.Add(fmtSize(float64(s)), strconv.FormatInt(ps[0].perShard*int64(o.shards), 10),
			sum(ps, fillRate, func(v float64) string { return fmt.Sprintf("%.0f MB/s", v) }),
			sum(ps, secs(func(p recoveryPass) time.Duration { return p.ready }), fmtDur),
			sum(ps, secs(func(p recoveryPass) time.Duration { return p.first }), fmtDur),
			sum(ps, readRate, fmtRate)+" rec/s",
			sum(ps, secs(func(p recoveryPass) time.Duration { return p.coldReady }), fmtDur),
			sum(ps, secs(func(p recoveryPass) time.Duration { return p.coldFirst }), fmtDur),
			sum(ps, secs(func(p recoveryPass) time.Duration { return p.lostReady }), fmtDur),
			sum(ps, secs(func(p recoveryPass) time.Duration { return p.lostFirst }), fmtDur),
			sum(ps, lostRate, fmtRate)+" rec/s",
			fmtSummary(stats.Summarize(stats.Ratios(col(ps, lostRate), col(ps, readRate))), fmtRatio))
	}
	b.WriteString(tb.Markdown())

	w("\nSeconds per GiB: slope of a least-squares line through the medians per size (and its intercept: the cost of\n")
	w("a restart with no data), and the median at the largest size divided by that size.\n\n")
	ft := report.Table{Header: []string{"time", "s/GiB (line fit)", "intercept", "s/GiB at " + fmtSize(float64(o.sizes[len(o.sizes)-1]))},
		Align: []byte{'l', 'r', 'r', 'r'}}
	for _, m := range []struct {
		name string
		f    func(recoveryPass) float64
	}{
		{"ready after kill -9", secs(func(p recoveryPass) time.Duration { return p.ready })},
		{"first records after kill -9", secs(func(p recoveryPass) time.Duration { return p.first })},
		{"ready, cold cache", secs(func(p recoveryPass) time.Duration { return p.coldReady })},
		{"first records, cold cache", secs(func(p recoveryPass) time.Duration { return p.coldFirst })},
		{"ready, 2 of 6 fragments lost", secs(func(p recoveryPass) time.Duration { return p.lostReady })},
		{"first records, 2 of 6 fragments lost", secs(func(p recoveryPass) time.Duration { return p.lostFirst })},
	} {
		var xs, ys []float64
		for _, s := range o.sizes {
			if ps := bySize[s]; len(ps) > 0 {
				xs, ys = append(xs, float64(s)/(1<<30)), append(ys, stats.Median(col(ps, m.f)))
			}
		}
		slope, icept := lineFit(xs, ys)
		last := nan
		if len(xs) > 0 {
			last = ys[len(ys)-1] / xs[len(xs)-1]
		}
		ft.Add(m.name, fmtSecs(slope), fmtSecs(icept), fmtSecs(last))
		if m.name == "ready after kill -9" && len(xs) > 0 {
			setHeadline(headlineRow{order: hlRecovery, claim: "recovery after kill -9 (restart until /readyz): seconds per GiB of data",
				sluice: fmtSecs(slope) + "/GiB (line fit over " + sizeList(o.sizes) + "; " + fmtSecs(ys[len(ys)-1]) + " at " + fmtSize(xs[len(xs)-1]*(1<<30)) + ")",
				others: "-", ratio: "-", target: "-", result: "-"})
		}
	}
	b.WriteString(ft.Markdown())

	w("\nDetails per pass: disk is the data directory after the fill (fragment files are preallocated, 1 MiB for a\n")
	w("shard's first segment, each later one doubling up to 16 MiB);\n")
	w("segments counts all shards'; deleted and after are fragment files (after: once the restart with lost\n")
	w("fragments has finished).\n\n")
	dt := report.Table{Header: []string{"data", "run", "disk", "segments", "deleted", "after", "records verified"},
		Align: []byte{'r', 'r', 'r', 'r', 'r', 'r', 'r'}}
	for _, s := range o.sizes {
		for i, p := range bySize[s] {
			dt.Add(fmtSize(float64(s)), strconv.Itoa(i+1), fmtSize(float64(p.diskBefore)), strconv.Itoa(p.segments),
				strconv.Itoa(p.deleted), strconv.Itoa(p.recreated), strconv.FormatInt(p.verified, 10))
		}
	}
	b.WriteString(dt.Markdown())

	w("\nMethod:\n\n")
	w("- sluice: `./cmd/sluice` built once, a separate process on 127.0.0.1, `--durability async`, a fresh `--data-dir`\n")
	w("  under %s (%s) per pass, removed after it. Sizes alternate within a run (run 1 of every size, then run 2).\n", info.Mount, info.FSType)
	w("  Before the first pass the free disk space is checked: a size whose records (x1.6 for parity and framing), the\n")
	w("  preallocated last segments and 1 GiB of margin do not fit is skipped (see above).\n")
	w("- Durability: async acknowledges a record once its stripe is copied into the page cache, which a killed\n")
	w("  process does not lose (a machine crash would); so after kill -9 every acknowledged record must be back, and\n")
	w("  no final sync or clean stop is needed. fsync would only slow the fill down: recovery reads the same files.\n")
	w("- Fill: one connection per shard, PutRecords of %d records, each record placed by ExplicitHashKey (its shard's\n", recoveryBatch)
	w("  starting hash key) and put in order, so shard s holds records 0, 1, ... of s. Record data: a stamp (seed,\n")
	w("  shard, index) and bytes of a PCG generator seeded by (seed %d, shard, index), so every byte read back is\n", o.seed)
	w("  recomputed, not remembered. Every response must report FailedRecordCount 0 and every record in its shard.\n")
	w("- kill -9: SIGKILL right after the last acknowledgement, then the server is started again on the same data\n")
	w("  directory (new ports); the clock starts at exec. /readyz is polled every 2 ms (the server answers 200 once\n")
	w("  every shard log is recovered: every segment opened and every chunk verified). First records: GetShardIterator\n")
	w("  TRIM_HORIZON and GetRecords (Limit 10) on every shard in parallel, each record compared byte for byte.\n")
	w("- Read: shard 0 from TRIM_HORIZON until an empty answer, timed (the client only parses each answer for its\n")
	w("  iterator; the responses are kept and verified after the clock stops); then the other shards, untimed and\n")
	w("  verified as they are read. Each shard must hold exactly the records put, in order, with their data and\n")
	w("  partition keys. The page cache holds the files: this is the restart of a crashed process, not of a rebooted\n")
	w("  machine (see cold cache).\n")
	w("- Cold cache: after that read, the server is killed with SIGKILL again and every file of its data directory is\n")
	w("  written back (fsync) and dropped from the page cache (posix_fadvise DONTNEED), as after a reboot; the restart\n")
	w("  and the first records are then timed as above. The recovery reads every segment from the disk.\n")
	w("- Lost fragments: then the server is killed with SIGKILL again and fragment files 00 and 01 (two\n")
	w("  data fragments) of every segment of every shard are deleted (segment/FORMAT.md names them\n")
	w("  `BBBBBBBBBBBBBBBBBBBB.JJ.frag`); the restart and the reads are then timed and verified as above. Recovery\n")
	w("  re-creates missing fragment files and rewrites the chunks it rebuilds with Reed-Solomon, so that restart\n")
	w("  includes the repair (column after: the fragment files present once it is done). The other fragments are in\n")
	w("  the page cache again (the cold restart read them).\n")
	w("- A record missing, changed, out of order or extra fails the suite (`verification failed`).\n")
	return b.String()
}

// fmtSecs formats seconds that may be negative (a fit's intercept).
func fmtSecs(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v < 0:
		return "-" + fmtDur(-v)
	}
	return fmtDur(v)
}

// recoveryChartName is the recovery suite's chart, beside the results file.
const recoveryChartName = "recovery-time.svg"

// recoveryChart draws the median restart times per size beside o.out and
// returns the Markdown that shows it.
func recoveryChart(o recoveryOptions, passes []recoveryPass) (string, error) {
	var groups []string
	bySize := map[int64][]recoveryPass{}
	for _, p := range passes {
		bySize[p.size] = append(bySize[p.size], p)
	}
	var sizes []int64
	for _, s := range o.sizes {
		if len(bySize[s]) > 0 {
			sizes = append(sizes, s)
			groups = append(groups, fmtSize(float64(s)))
		}
	}
	metrics := []struct {
		name string
		f    func(recoveryPass) time.Duration
	}{
		{"ready after kill -9", func(p recoveryPass) time.Duration { return p.ready }},
		{"first records after kill -9", func(p recoveryPass) time.Duration { return p.first }},
		{"ready, cold page cache", func(p recoveryPass) time.Duration { return p.coldReady }},
		{"ready, 2 of 6 fragments lost", func(p recoveryPass) time.Duration { return p.lostReady }},
	}
	var series []string
	var values [][]float64
	for _, m := range metrics {
		row := make([]float64, len(sizes))
		for g, s := range sizes {
			var v []float64
			for _, p := range bySize[s] {
				v = append(v, m.f(p).Seconds())
			}
			row[g] = stats.Median(v)
		}
		series, values = append(series, m.name), append(values, row)
	}
	path := filepath.Join(filepath.Dir(o.out), recoveryChartName)
	if err := charts.Bars(path, "Restart after kill -9: seconds (median, log scale)", "seconds", groups, series, values, fmtDur); err != nil {
		return "", err
	}
	logf("wrote %s", path)
	return "\n![Restart time after kill -9 per data size](" + recoveryChartName + ")\n", nil
}
