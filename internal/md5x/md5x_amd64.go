package md5x

import "golang.org/x/sys/cpu"

// useAVX512: the kernel uses 512-bit VPADDD, VPROLD and VPTERNLOGD
// (AVX512F).
var useAVX512 = cpu.X86.HasAVX512F

// blocks16 runs MD5's compression of one block from the initial state for
// sixteen messages: lane l of out is the digest's four words of the block
// m[0..15][l].
//
//go:noescape
func blocks16(out *[4][lanes]uint32, m *[16][lanes]uint32)
