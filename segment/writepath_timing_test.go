package segment

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkSegmentWritePath decides how the flusher puts chunks into a
// preallocated fragment file: pwrite through the descriptor, or a copy into
// a writable shared mapping (FORMAT.md, "Writing").
func BenchmarkSegmentWritePath(b *testing.B) {
	const fileSize = 64 << 20
	for _, chunk := range []int{64, 1 << 10, 16 << 10, 256 << 10} {
		data := make([]byte, chunk)
		for i := range data {
			data[i] = byte(i)
		}
		open := func(b *testing.B) *os.File {
			f, err := os.OpenFile(filepath.Join(b.TempDir(), "f"), os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			if err := preallocate(f, fileSize); err != nil {
				b.Fatal(err)
			}
			return f
		}
		b.Run("method=pwrite/chunk="+sizeName(chunk), func(b *testing.B) {
			f := open(b)
			defer f.Close()
			b.SetBytes(int64(chunk))
			b.ResetTimer()
			off := int64(0)
			for i := 0; i < b.N; i++ {
				if off+int64(chunk) > fileSize {
					off = 0
				}
				if _, err := unix.Pwrite(int(f.Fd()), data, off); err != nil {
					b.Fatal(err)
				}
				off += int64(chunk)
			}
		})
		b.Run("method=mmapcopy/chunk="+sizeName(chunk), func(b *testing.B) {
			f := open(b)
			defer f.Close()
			mem, err := unix.Mmap(int(f.Fd()), 0, fileSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
			if err != nil {
				b.Fatal(err)
			}
			defer unix.Munmap(mem)
			b.SetBytes(int64(chunk))
			b.ResetTimer()
			off := 0
			for i := 0; i < b.N; i++ {
				if off+chunk > fileSize {
					off = 0
				}
				copy(mem[off:], data)
				off += chunk
			}
		})
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + "KiB"
	}
	return itoa(n) + "B"
}
