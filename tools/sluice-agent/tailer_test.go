package main

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// shipAll reads every line the tailer has now, committing each batch as
// shipped, and returns them.
func shipAll(t *testing.T, tl *tailer) []string {
	t.Helper()
	var out []string
	for range 1000 {
		f, lines, end := tl.next(3, 4096)
		if f == nil {
			return out
		}
		for _, l := range lines {
			out = append(out, string(l))
		}
		f.Offset = end
	}
	t.Fatal("tailer never ran dry")
	return nil
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func newTestTailer(dir string) *tailer {
	return newTailer(tailConfig{Globs: []string{filepath.Join(dir, "*.log")}, RotateWait: time.Millisecond}, quietLog())
}

func wantLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("lines %q, want %q", got, want)
	}
}

func TestAgentTailerPartialLine(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	appendFile(t, p, "one\ntwo\nthr")
	tl := newTestTailer(dir)
	defer tl.close()
	tl.scan()
	wantLines(t, shipAll(t, tl), "one", "two")
	// The unterminated line waits for its newline.
	wantLines(t, shipAll(t, tl))
	appendFile(t, p, "ee\n\nfour\n")
	tl.scan()
	wantLines(t, shipAll(t, tl), "three", "", "four")
}

func TestAgentTailerRenameRotation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	appendFile(t, p, "a1\na2\n")
	tl := newTestTailer(dir)
	defer tl.close()
	tl.scan()
	wantLines(t, shipAll(t, tl), "a1", "a2")
	// Written before the rename, read after it: the old file is drained
	// first, then the new one is read, its unterminated last line at the
	// end once the rotation wait is over.
	appendFile(t, p, "a3\na4")
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, p, "b1\nb2\n")
	tl.scan()
	time.Sleep(5 * time.Millisecond)
	wantLines(t, shipAll(t, tl), "a3", "a4", "b1", "b2")
	if len(tl.files) != 1 {
		t.Fatalf("%d files tracked after the rotated one was drained, want 1", len(tl.files))
	}
}

// TestAgentTailerRotatedNameMatchesGlob: a rotated file under a name the
// globs match is not shipped again after it was drained.
func TestAgentTailerRotatedNameMatchesGlob(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	appendFile(t, p, "a1\n")
	tl := newTailer(tailConfig{Globs: []string{filepath.Join(dir, "app.log*")}, RotateWait: time.Millisecond}, quietLog())
	defer tl.close()
	tl.scan()
	wantLines(t, shipAll(t, tl), "a1")
	appendFile(t, p, "a2\n")
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, p, "b1\n")
	for range 3 {
		tl.scan()
		time.Sleep(5 * time.Millisecond)
	}
	wantLines(t, shipAll(t, tl), "a2", "b1")
	for range 3 {
		tl.scan()
		wantLines(t, shipAll(t, tl))
	}
	// Once it no longer matches, it is forgotten.
	if err := os.Remove(p + ".1"); err != nil {
		t.Fatal(err)
	}
	tl.scan()
	if len(tl.files) != 1 {
		t.Fatalf("%d files tracked, want 1", len(tl.files))
	}
}

func TestAgentTailerCopyTruncate(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	appendFile(t, p, "a1\na2\n")
	tl := newTestTailer(dir)
	defer tl.close()
	tl.scan()
	wantLines(t, shipAll(t, tl), "a1", "a2")
	appendFile(t, p, "a3\n")
	// copytruncate: the unshipped a3 is only in the copy now.
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p+".1", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, p, "b1 longer than before\n")
	tl.scan()
	time.Sleep(5 * time.Millisecond)
	wantLines(t, shipAll(t, tl), "a3", "b1 longer than before")
}

// TestAgentTailerCopyMatchesGlob: copytruncate's copy has a name the
// globs match; it is not shipped as a new file, only its unshipped rest.
func TestAgentTailerCopyMatchesGlob(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	appendFile(t, p, "a1\na2\n")
	tl := newTailer(tailConfig{Globs: []string{filepath.Join(dir, "app*")}, RotateWait: time.Millisecond, FingerprintBytes: 4}, quietLog())
	defer tl.close()
	tl.scan()
	wantLines(t, shipAll(t, tl), "a1", "a2")
	appendFile(t, p, "a3\n")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.old"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	// Seen before the truncation too: still not shipped as a file of its own.
	tl.scan()
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, p, "b1\n")
	tl.scan()
	time.Sleep(5 * time.Millisecond)
	wantLines(t, shipAll(t, tl), "a3", "b1")
	tl.scan()
	wantLines(t, shipAll(t, tl))
}

func TestAgentTailerTruncateNoCopy(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	appendFile(t, p, "a1\na2\n")
	tl := newTestTailer(dir)
	defer tl.close()
	tl.scan()
	wantLines(t, shipAll(t, tl), "a1", "a2")
	// Truncated and rewritten to a smaller size: read from the start.
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, p, "b\n")
	tl.scan()
	wantLines(t, shipAll(t, tl), "b")
}

func TestAgentTailerLongLine(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	long := strings.Repeat("x", 10)
	appendFile(t, p, long+"\nok\n")
	tl := newTailer(tailConfig{Globs: []string{filepath.Join(dir, "*.log")}, MaxLineBytes: 4}, quietLog())
	defer tl.close()
	tl.scan()
	wantLines(t, shipAll(t, tl), "xxxx", "xxxx", "xx", "ok")
}

// TestAgentTailerRestore: the checkpoint's states reopen the files, a
// rotated file by its inode under its new name.
func TestAgentTailerRestore(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	appendFile(t, p, "a1\na2\n")
	tl := newTestTailer(dir)
	tl.scan()
	f, lines, end := tl.next(1, 4096)
	wantLines(t, []string{string(lines[0])}, "a1")
	f.Offset = end
	states := tl.states()
	tl.close()

	if err := os.Rename(p, filepath.Join(dir, "app.log.1")); err != nil {
		t.Fatal(err)
	}
	appendFile(t, p, "b1\n")
	tl2 := newTestTailer(dir)
	defer tl2.close()
	tl2.restore(states)
	tl2.scan()
	time.Sleep(5 * time.Millisecond)
	wantLines(t, shipAll(t, tl2), "a2", "b1")
}

func TestAgentCheckpointRoundTrip(t *testing.T) {
	c := &checkpoint{
		ProducerID: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		NextBatch:  42,
		Files: []fileState{
			{Dev: 1, Ino: 2, FPLen: 1024, FPHash: 0xdeadbeef, Offset: 99, Order: 3, Key: "/var/log/app.log", Path: "/var/log/app.log"},
			{Dev: 1, Ino: 7, FPLen: 10, FPHash: 5, Offset: 1 << 40, Order: 2, Retired: true, Key: "/var/log/app.log", Path: "/var/log/app.log.1"},
		},
		Tails: []shardTail{{Shard: "shardId-000000000000", Seq: "49590338271490256608559692538361571095921575989136588802"}},
		Intent: &intent{BatchID: 41, Dev: 1, Ino: 2, Start: 10, End: 99, TimeMS: 1733480000000,
			Records: []record{{PartitionKey: "k#p.29.0", ExplicitHashKey: "123", Data: []byte("line")}, {PartitionKey: "k"}}},
	}
	b := appendCheckpoint(nil, c)
	got, err := decodeCheckpoint(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, c)
	}
	path := filepath.Join(t.TempDir(), "ck")
	if err := saveCheckpoint(path, b); err != nil {
		t.Fatal(err)
	}
	loaded, err := loadCheckpoint(path)
	if err != nil || !reflect.DeepEqual(loaded, c) {
		t.Fatalf("load: %v %+v", err, loaded)
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary file left behind: %v", err)
	}
	if c, err := loadCheckpoint(filepath.Join(t.TempDir(), "none")); c != nil || err != nil {
		t.Fatalf("missing checkpoint: %v %v, want nil nil", c, err)
	}

	// Every corruption is reported, never accepted.
	cases := map[string]func([]byte) []byte{
		"truncated":      func(b []byte) []byte { return b[:len(b)-1] },
		"flipped body":   func(b []byte) []byte { b[30] ^= 1; return b },
		"bad magic":      func(b []byte) []byte { b[0] = 'X'; return b },
		"bad version":    func(b []byte) []byte { b[9] = 9; return b },
		"reserved set":   func(b []byte) []byte { b[11] = 1; return b },
		"trailing bytes": func(b []byte) []byte { return append(b, 0) },
		"empty":          func(b []byte) []byte { return nil },
	}
	for name, mutate := range cases {
		bad := mutate(bytes.Clone(b))
		if _, err := decodeCheckpoint(bad); !errors.Is(err, errCheckpointCorrupt) {
			t.Errorf("%s: err %v, want errCheckpointCorrupt", name, err)
		}
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadCheckpoint(path); err == nil || !strings.Contains(err.Error(), "move it away") {
		t.Fatalf("corrupt checkpoint file: %v", err)
	}
}

func TestAgentMarker(t *testing.T) {
	pk := "some/file.log" + marker("0011223344556677", 0x1f, 7)
	b, i, ok := parseMarker(pk, "0011223344556677")
	if !ok || b != 0x1f || i != 7 {
		t.Fatalf("parseMarker(%q) = %d %d %v", pk, b, i, ok)
	}
	for _, bad := range []string{"no marker", "x#0011223344556677.1", "x#ffffffffffffffff.1.2", "x#0011223344556677.z.1", "x#0011223344556677.1.-1"} {
		if _, _, ok := parseMarker(bad, "0011223344556677"); ok {
			t.Errorf("parseMarker(%q) ok", bad)
		}
	}
	if got := hashKey(""); got != "281949768489412648962353822266799178366" {
		t.Errorf("hashKey(\"\") = %s, want MD5 of nothing as decimal", got)
	}
	if got := truncKey("aé", 2); got != "a" {
		t.Errorf("truncKey cut a rune: %q", got)
	}
	if !seqLess("9", "10") || seqLess("10", "9") || !seqLess("11", "12") {
		t.Error("seqLess")
	}
}

// TestAgentRecords: the records of a batch. Over the Kinesis API the
// partition key carries the marker and ExplicitHashKey routes as the
// user's key would; over the binary protocol the key is the user's.
func TestAgentRecords(t *testing.T) {
	long := "/" + strings.Repeat("d", 300) + "/app.log"
	tr := &tracked{fileState: fileState{Dev: 1, Ino: 2, Offset: 10, Key: long}}
	lines := [][]byte{[]byte("a"), []byte("b")}
	mk := func(protocol, pk string) *intent {
		a := &agent{cfg: agentConfig{Protocol: protocol, PartitionKey: pk}, snd: &kinesisSender{next: 5}}
		a.ck = &checkpoint{ProducerID: [16]byte{0xff}}
		return a.makeIntent(tr, lines, 14)
	}
	in := mk("kinesis", "file")
	if in.BatchID != 5 || in.Start != 10 || in.End != 14 || in.Dev != 1 || in.Ino != 2 || len(in.Records) != 2 {
		t.Fatalf("intent %+v", in)
	}
	for i, r := range in.Records {
		m := marker(producerHex([16]byte{0xff}), 5, i)
		if len(r.PartitionKey) > maxPartitionKey || !strings.HasSuffix(r.PartitionKey, m) || !strings.HasPrefix(long, strings.TrimSuffix(r.PartitionKey, m)) {
			t.Errorf("record %d: partition key %q", i, r.PartitionKey)
		}
		if r.ExplicitHashKey != hashKey(long) || string(r.Data) != string(lines[i]) {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	in = mk("kinesis", "line")
	if in.Records[0].ExplicitHashKey == in.Records[1].ExplicitHashKey {
		t.Errorf("--partition-key line: both lines hash to %s", in.Records[0].ExplicitHashKey)
	}
	in = mk("tcp", "file")
	if r := in.Records[0]; r.PartitionKey != long[:maxPartitionKey] || r.ExplicitHashKey != "" {
		t.Errorf("tcp record %+v", r)
	}
}

func TestAgentFlags(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		var out bytes.Buffer
		if code := run(t.Context(), args, &out); code != exitUsage || !strings.Contains(out.String(), want) {
			t.Errorf("%q: exit %d, output %q; want exit 2 and %q", args, code, out.String(), want)
		}
	}
	f("--stream is required", "--files", "*.log")
	f("--files is required", "--stream", "s")
	f(`--protocol "udp"`, "--stream", "s", "--files", "x", "--protocol", "udp")
	f(`--partition-key "random"`, "--stream", "s", "--files", "x", "--partition-key", "random")
	f("--batch-lines 501", "--stream", "s", "--files", "x", "--batch-lines", "501")
	f(`--files "[": syntax error`, "--stream", "s", "--files", "[")
	f(`unexpected argument "extra"`, "--stream", "s", "--files", "x", "extra")
	var out bytes.Buffer
	if code := run(t.Context(), []string{"--help"}, &out); code != exitOK || !strings.Contains(out.String(), "-checkpoint") {
		t.Errorf("--help: exit %d, %q", code, out.String())
	}
	// A corrupt checkpoint stops the agent with exit 1 and says what to do.
	dir := t.TempDir()
	ck := filepath.Join(dir, "ck")
	if err := os.WriteFile(ck, []byte("not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(t.Context(), []string{"--stream", "s", "--files", filepath.Join(dir, "*.log"), "--checkpoint", ck, "--endpoint", "http://127.0.0.1:1"}, &out); code != exitFailed || !strings.Contains(out.String(), "move it away") {
		t.Errorf("corrupt checkpoint: exit %d, %q", code, out.String())
	}
}
