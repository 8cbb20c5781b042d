//go:build !amd64

package md5x

const useAVX512 = false

func blocks16(out *[4][lanes]uint32, m *[16][lanes]uint32) {
	panic("md5x: no vector kernel on this architecture")
}
