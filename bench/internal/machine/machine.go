// Package machine describes the host a benchmark ran on: CPUs, CPU model,
// memory, Go version, date and the file system of the benchmark directory,
// so that results files say what produced them.
//
// Describe reads /proc and calls statfs; it keeps no state and is safe for
// concurrent use.
package machine

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Info describes the machine and the benchmark directory.
type Info struct {
	CPUs      int    // online CPUs the process may use (nproc)
	Model     string // "model name" of the first CPU in /proc/cpuinfo
	MemBytes  int64  // MemTotal from /proc/meminfo
	GoVersion string
	Date      time.Time
	Dir       string // the benchmark directory
	FSType    string // file system type of Dir, e.g. "ext4"
	FSSource  string // device or source of that mount, e.g. "/dev/vda"
	Mount     string // mount point holding Dir
}

// Describe collects Info for the benchmark directory dir. Facts that
// cannot be read are left empty; Describe does not fail.
func Describe(dir string) Info {
	info := Info{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Date: time.Now(), Dir: dir}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		info.Model = parseCPUModel(f)
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		info.MemBytes = parseMemTotal(f)
		f.Close()
	}
	if abs, err := filepath.Abs(dir); err == nil {
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		if f, err := os.Open("/proc/self/mountinfo"); err == nil {
			info.Mount, info.FSType, info.FSSource = parseMountinfo(f, abs)
			f.Close()
		}
	}
	if info.FSType == "" {
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err == nil {
			info.FSType = fsTypeName(int64(st.Type))
		}
	}
	return info
}

// IsMemoryFS reports whether the directory lives in memory (tmpfs, ramfs),
// where disk benchmarks measure nothing useful.
func (i Info) IsMemoryFS() bool {
	return i.FSType == "tmpfs" || i.FSType == "ramfs"
}

// Lines returns the description as Markdown list items.
func (i Info) Lines() []string {
	mem := "unknown"
	if i.MemBytes > 0 {
		mem = fmt.Sprintf("%.1f GiB", float64(i.MemBytes)/(1<<30))
	}
	fs := i.FSType
	if fs == "" {
		fs = "unknown"
	}
	if i.FSSource != "" {
		fs += " on " + i.FSSource
	}
	if i.Mount != "" {
		fs += " (mounted at " + i.Mount + ")"
	}
	model := i.Model
	if model == "" {
		model = "unknown"
	}
	return []string{
		fmt.Sprintf("- CPUs (nproc): %d, model: %s", i.CPUs, model),
		"- memory: " + mem,
		"- Go: " + i.GoVersion,
		"- date: " + i.Date.UTC().Format("2006-01-02 15:04 UTC"),
		"- bench dir file system: " + fs,
	}
}

func parseCPUModel(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func parseMemTotal(r io.Reader) int64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// parseMountinfo finds the mount with the longest mount point that
// contains path (absolute, symlinks resolved) and returns its mount point,
// file system type and source. The format is proc(5):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
func parseMountinfo(r io.Reader, path string) (mount, fsType, source string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 2 {
			continue
		}
		mp := unescapeMount(pf[4])
		if !within(path, mp) || len(mp) < len(mount) {
			continue
		}
		// Later lines of the same mount point shadow earlier ones.
		mount, fsType, source = mp, qf[0], qf[1]
	}
	return mount, fsType, source
}

func within(path, mount string) bool {
	if mount == "/" {
		return strings.HasPrefix(path, "/")
	}
	return path == mount || strings.HasPrefix(path, mount+"/")
}

// unescapeMount undoes the octal escapes (\040 for a space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// fsTypeName names a statfs f_type magic (linux/magic.h).
func fsTypeName(magic int64) string {
	switch magic {
	case 0xEF53:
		return "ext2/ext3/ext4"
	case 0x58465342:
		return "xfs"
	case 0x9123683E:
		return "btrfs"
	case 0x01021994:
		return "tmpfs"
	case 0x858458f6:
		return "ramfs"
	case 0x794c7630:
		return "overlayfs"
	case 0x2fc12fc1:
		return "zfs"
	case 0x6969:
		return "nfs"
	}
	return fmt.Sprintf("0x%x", magic)
}
