package md5x

import (
	"crypto/md5"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// check compares SumStrings with crypto/md5 for msgs.
func check(t *testing.T, msgs []string) {
	t.Helper()
	out := make([][md5.Size]byte, len(msgs)+1)
	out[len(msgs)] = [md5.Size]byte{1} // past the end: untouched
	SumStrings(msgs, out)
	for i, s := range msgs {
		if want := md5.Sum([]byte(s)); out[i] != want {
			t.Fatalf("message %d of %d (%d bytes %q): %x, want %x", i, len(msgs), len(s), s, out[i], want)
		}
	}
	if out[len(msgs)] != ([md5.Size]byte{1}) {
		t.Fatal("SumStrings wrote past its messages")
	}
}

// TestSumStrings: every length from 0 to 200 (one block and several, the
// 55/56-byte edge of the padding), batches of every count from 1 to 40
// (partial vector batches), and short and long messages mixed.
func TestSumStrings(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	msg := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return string(b)
	}
	var all []string
	for n := range 201 {
		all = append(all, msg(n))
	}
	check(t, all)
	for count := 1; count <= 40; count++ {
		msgs := make([]string, count)
		for i := range msgs {
			msgs[i] = msg(rng.IntN(70))
		}
		check(t, msgs)
	}
	check(t, []string{"", "a", "abc", "message digest", strings.Repeat("x", 55), strings.Repeat("y", 56), "pk-1", "pk-2"})
	check(t, nil)
}

// TestVectorKernelUsed: on a machine with AVX-512 the vector path runs
// (a test of SumStrings alone would pass with the fallback too).
func TestVectorKernelUsed(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 on this machine: SumStrings uses crypto/md5 (covered by TestSumStrings)")
	}
	var b batch
	for i := range lanes {
		b.add(fmt.Sprint("key-", i), i)
	}
	out := make([][md5.Size]byte, lanes)
	b.sum(out)
	for i := range lanes {
		if want := md5.Sum(fmt.Append(nil, "key-", i)); out[i] != want {
			t.Fatalf("lane %d: %x, want %x", i, out[i], want)
		}
	}
}

func FuzzSumStrings(f *testing.F) {
	f.Add("", "a", 3)
	f.Add(strings.Repeat("k", 55), strings.Repeat("k", 56), 17)
	f.Add("partitionKey-0001", "\x00\xff", 1)
	f.Fuzz(func(t *testing.T, a, b string, n int) {
		n = 1 + (n&0x7fffffff)%40
		msgs := make([]string, n)
		for i := range msgs {
			if i%2 == 0 {
				msgs[i] = a
			} else {
				msgs[i] = b
			}
			if i%3 == 0 && len(msgs[i]) > 0 {
				msgs[i] = msgs[i][:i%len(msgs[i])]
			}
		}
		check(t, msgs)
	})
}

// BenchmarkSumStrings: 16-byte partition keys, 500 a call (one PutRecords
// request), against crypto/md5 one key at a time.
func BenchmarkSumStrings(b *testing.B) {
	keys := make([]string, 500)
	for i := range keys {
		keys[i] = fmt.Sprintf("pk-%013x", i*7919)
	}
	out := make([][md5.Size]byte, len(keys))
	b.Run("md5x", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			SumStrings(keys, out)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
	})
	b.Run("crypto-md5", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for i, k := range keys {
				out[i] = md5.Sum([]byte(k))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
	})
}
