package xxh64x

import "golang.org/x/sys/cpu"

// useAVX512: VPMULLQ is AVX512DQ, VPROLQ and the 512-bit loads AVX512F.
var useAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// stripes6 runs XXH64's stripe loop over six buffers at once: for each of
// n 32-byte stripes, acc[4*s+i] = round(acc[4*s+i], lane i of buffer s).
//
//go:noescape
func stripes6(acc *[24]uint64, ptrs *[6]*byte, n int)
