package machine

import (
	"strings"
	"testing"
)

func TestBenchMachineMountinfo(t *testing.T) {
	const mi = `21 26 0:20 / /proc rw,relatime - proc proc rw
26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
24 23 0:22 / /tmp rw,relatime - tmpfs tmpfs rw,size=100k
29 26 0:26 / /mnt/my\040disk rw,relatime shared:5 - xfs /dev/sdb1 rw
`
	f := func(path, wantMount, wantType string) {
		t.Helper()
		m, typ, _ := parseMountinfo(strings.NewReader(mi), path)
		if m != wantMount || typ != wantType {
			t.Fatalf("parseMountinfo(%q) = %q %q, want %q %q", path, m, typ, wantMount, wantType)
		}
	}
	f("/work/main/bench/out", "/", "ext4")
	f("/tmp/x", "/tmp", "tmpfs")
	f("/tmpfoo", "/", "ext4")
	f("/mnt/my disk/a", "/mnt/my disk", "xfs")
}

func TestBenchMachineProcFiles(t *testing.T) {
	if got := parseCPUModel(strings.NewReader("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n")); got != "AMD EPYC 7B13" {
		t.Fatalf("model = %q", got)
	}
	if got := parseMemTotal(strings.NewReader("MemTotal:       24683620 kB\nMemFree: 1 kB\n")); got != 24683620<<10 {
		t.Fatalf("mem = %d", got)
	}
	if fsTypeName(0x01021994) != "tmpfs" || !(Info{FSType: "tmpfs"}).IsMemoryFS() {
		t.Fatal("tmpfs not recognised")
	}
}

func TestBenchMachineDescribe(t *testing.T) {
	info := Describe(t.TempDir())
	if info.CPUs < 1 || info.GoVersion == "" || info.FSType == "" {
		t.Fatalf("Describe = %+v", info)
	}
	if len(info.Lines()) != 5 {
		t.Fatalf("Lines = %q", info.Lines())
	}
}
