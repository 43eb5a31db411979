package zipalign

// crc32Zeros returns the CRC-32 (IEEE) that crc becomes after n more zero
// bytes, as crc32.Update would compute, in O(log n) time: a run of zeros
// only shifts the CRC register, a linear map that is raised to the n-th
// power by repeated squaring. It lets holes of sparse files count in the
// checksum without being read.
func crc32Zeros(crc uint32, n int64) uint32 {
	if n <= 0 {
		return crc
	}
	// op[i] is the image of register bit i after one zero bit: the
	// reflected register shifts right, folding in the polynomial when the
	// bit shifted out is set.
	var op, sq [32]uint32
	op[0] = 0xedb88320
	for i := 1; i < 32; i++ {
		op[i] = 1 << (i - 1)
	}
	// Square three times: the map for one zero byte.
	for range 3 {
		square(&sq, &op)
		op = sq
	}
	reg := ^crc
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			reg = apply(&op, reg)
		}
		if n > 1 {
			square(&sq, &op)
			op = sq
		}
	}
	return ^reg
}

// apply returns the image of v under the GF(2) linear map m, given by the
// images of the basis bits.
func apply(m *[32]uint32, v uint32) uint32 {
	var r uint32
	for i := 0; v != 0; i, v = i+1, v>>1 {
		if v&1 != 0 {
			r ^= m[i]
		}
	}
	return r
}

// square sets dst to m composed with itself.
func square(dst, m *[32]uint32) {
	for i := range m {
		dst[i] = apply(m, m[i])
	}
}
