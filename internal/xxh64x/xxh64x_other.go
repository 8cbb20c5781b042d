//go:build !amd64

package xxh64x

const useAVX512 = false

func stripes6(acc *[24]uint64, ptrs *[6]*byte, n int) {
	panic("xxh64x: no vector kernel on this architecture")
}
