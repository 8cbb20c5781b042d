// Package xxh64x computes the XXH64 checksums (seed 0, the same values as
// github.com/cespare/xxhash/v2's Sum64) of several equal-length buffers at
// once. On amd64 with AVX-512 six buffers go through one loop, two per
// 512-bit register, so that the 64-bit multiplies of XXH64 run eight
// lanes at a time and the six streams' dependency chains overlap; a
// stripe's k+m chunks (4+2 by default) are hashed at several times the
// speed of one Sum64 call per chunk. Elsewhere, and for other counts, it
// calls Sum64 per buffer.
package xxh64x
