package xxh64x

import (
	"math/rand/v2"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// TestSum64s: every length from 0 to 300, and some long ones, six and
// other counts of buffers, equal and unequal lengths, give Sum64's values.
func TestSum64s(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	lengths := []int{}
	for n := 0; n <= 300; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 4096, 65536+24, 117_768)
	for _, n := range lengths {
		for _, count := range []int{1, 5, 6, 7, 12} {
			bufs := make([][]byte, count)
			for i := range bufs {
				bufs[i] = make([]byte, n)
				for j := range bufs[i] {
					bufs[i][j] = byte(rng.Uint32())
				}
			}
			check(t, bufs)
			if count > 1 && n > 0 {
				bufs[count-1] = bufs[count-1][:n-1] // unequal: the fallback
				check(t, bufs)
			}
		}
	}
}

func check(t *testing.T, bufs [][]byte) {
	t.Helper()
	out := make([]uint64, len(bufs)+1)
	out[len(bufs)] = 42
	Sum64s(bufs, out)
	for i, b := range bufs {
		if want := xxhash.Sum64(b); out[i] != want {
			t.Fatalf("%d buffers of %d bytes: buffer %d: %#x, want %#x", len(bufs), len(bufs[0]), i, out[i], want)
		}
	}
	if out[len(bufs)] != 42 {
		t.Fatal("Sum64s wrote past len(bufs)")
	}
}

// TestVectorKernelUsed: on this machine the test above covered the vector
// kernel, not only the fallback (a CPU without AVX-512 says so).
func TestVectorKernelUsed(t *testing.T) {
	if !useAVX512 {
		t.Log("no AVX-512 on this CPU: only the fallback is tested")
		return
	}
	bufs := make([][]byte, 6)
	for i := range bufs {
		bufs[i] = make([]byte, 100)
	}
	if !sum6(bufs, make([]uint64, 6)) {
		t.Fatal("sum6 refused six buffers of 100 bytes")
	}
}

// FuzzSum64s: six buffers cut from the fuzz input hash as Sum64 does.
func FuzzSum64s(f *testing.F) {
	f.Add([]byte("hello, world, six buffers of equal length please ok"), uint8(3))
	f.Add(make([]byte, 600), uint8(100))
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		size := int(n)
		if 6*size > len(data) {
			size = len(data) / 6
		}
		bufs := make([][]byte, 6)
		for i := range bufs {
			bufs[i] = data[i*size : (i+1)*size]
		}
		check(t, bufs)
	})
}

// BenchmarkSum64s: the six chunks of a 4+2 stripe of a 460 KiB group
// commit, with Sum64s and, as the baseline, one xxhash.Sum64 per chunk.
func BenchmarkSum64s(b *testing.B) {
	bufs := make([][]byte, 6)
	for i := range bufs {
		bufs[i] = make([]byte, 115<<10)
	}
	out := make([]uint64, 6)
	for _, bc := range []struct {
		name string
		sum  func()
	}{
		{"Sum64s", func() { Sum64s(bufs, out) }},
		{"Sum64-each", func() {
			for i, buf := range bufs {
				out[i] = xxhash.Sum64(buf)
			}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(6 * 115 << 10)
			for b.Loop() {
				bc.sum()
			}
		})
	}
}
