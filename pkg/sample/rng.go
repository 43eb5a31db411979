package sample

import "math"

// mt19937 is the 32-bit Mersenne Twister (Matsumoto and Nishimura, 1998), the engine
// C++ calls std::mt19937. llama.cpp draws all its random numbers from it, so a Go
// sampler seeded alike draws the same numbers.
type mt19937 struct {
	mt  [mtN]uint32
	idx int
}

const (
	mtN         = 624
	mtM         = 397
	mtMatrixA   = 0x9908b0df
	mtUpperMask = 0x80000000
	mtLowerMask = 0x7fffffff
)

// seed initializes the state as std::mt19937(seed) does.
func (r *mt19937) seed(s uint32) {
	r.mt[0] = s
	for i := 1; i < mtN; i++ {
		prev := r.mt[i-1]
		r.mt[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	r.idx = mtN
}

// twist regenerates the whole state block.
func (r *mt19937) twist() {
	for i := 0; i < mtN; i++ {
		y := r.mt[i]&mtUpperMask | r.mt[(i+1)%mtN]&mtLowerMask
		v := r.mt[(i+mtM)%mtN] ^ y>>1
		if y&1 != 0 {
			v ^= mtMatrixA
		}
		r.mt[i] = v
	}
	r.idx = 0
}

// next returns the next 32-bit output.
func (r *mt19937) next() uint32 {
	if r.idx >= mtN {
		r.twist()
	}
	y := r.mt[r.idx]
	r.idx++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// float64 returns a number in [0, 1) as libstdc++'s
// std::uniform_real_distribution<double>(0, 1) does with this engine: two outputs,
// the first as the low 32 bits, combined and scaled by 2^-64 in double precision.
func (r *mt19937) float64() float64 {
	lo := float64(r.next())
	hi := float64(r.next())
	v := (lo + hi*(1<<32)) / (1 << 64)
	if v >= 1 {
		v = math.Nextafter(1, 0)
	}
	return v
}

// float32 returns a number in [0, 1) as libstdc++'s
// std::uniform_real_distribution<float>(0, 1) does: one output rounded to float and
// scaled by 2^-32.
func (r *mt19937) float32() float32 {
	v := float32(r.next()) / (1 << 32)
	if v >= 1 {
		v = math.Nextafter32(1, 0)
	}
	return v
}
