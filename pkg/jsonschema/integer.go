package jsonschema

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// maxDigits is how many digits an integer in the grammar may have, as in
// llama.cpp's integral-part rule: larger bounds are no bound at all.
const maxDigits = 16

var digitLimit = int64(math.Pow10(maxDigits)) // the first integer with too many digits

// intBound converts a JSON number to the integer bound it implies:
// ceil for a lower bound, floor for an upper one. ok is false where the
// bound lies beyond the integers the grammar writes and excludes none of
// them; it is an error where it excludes all of them.
func intBound(num string, lower bool) (bound int64, ok bool, err error) {
	f, parsed := new(big.Float).SetPrec(200).SetString(num)
	if !parsed {
		return 0, false, fmt.Errorf("%q is not a number", num)
	}
	i, acc := f.Int(nil)
	if acc != big.Exact {
		// Int truncates toward zero; move to the ceiling or the floor.
		if lower && f.Sign() > 0 {
			i.Add(i, big.NewInt(1))
		} else if !lower && f.Sign() < 0 {
			i.Sub(i, big.NewInt(1))
		}
	}
	if i.CmpAbs(big.NewInt(digitLimit)) >= 0 {
		if (lower && i.Sign() > 0) || (!lower && i.Sign() < 0) {
			return 0, false, fmt.Errorf("%s leaves no integer of up to %d digits", num, maxDigits)
		}
		return 0, false, nil
	}
	return i.Int64(), true, nil
}

// integerRule writes GBNF alternatives for the decimal integers (no
// leading zeros; "-0" where 0 is in range) between lo and hi; hasLo and hasHi say which
// bounds exist.
func integerRule(lo, hi int64, hasLo, hasHi bool) string {
	switch {
	case hasLo && hasHi:
		switch {
		case hi < 0:
			return `"-" (` + nonNegRange(-hi, -lo) + `)`
		case lo < 0:
			// "-0" is 0, in range; llama.cpp writes it too.
			return `"-" (` + nonNegRange(0, -lo) + `) | ` + nonNegRange(0, hi)
		default:
			return nonNegRange(lo, hi)
		}
	case hasLo:
		if lo < 0 {
			return `"-" (` + nonNegRange(0, -lo) + `) | ` + atLeast(0)
		}
		return atLeast(lo)
	case hasHi:
		if hi < 0 {
			return `"-" (` + atLeast(-hi) + `)`
		}
		return `"-" ` + atLeast(1) + ` | ` + nonNegRange(0, hi)
	}
	return `"-"? (` + atLeast(0) + `)`
}

// atLeast matches the integers >= a (a >= 0) of up to maxDigits digits.
func atLeast(a int64) string {
	s := strconv.FormatInt(a, 10)
	d := len(s)
	var alts []string
	switch a {
	case 0:
		return `[0] | [1-9] ` + moreDigits(0, maxDigits-1)
	case 1:
		return `[1-9] ` + moreDigits(0, maxDigits-1)
	}
	alts = append(alts, sameLength(s, strings.Repeat("9", d)))
	if d < maxDigits {
		alts = append(alts, `[1-9] `+moreDigits(d, maxDigits-1))
	}
	return strings.Join(alts, " | ")
}

// nonNegRange matches the integers in [a, b], 0 <= a <= b, one
// alternative per number of digits.
func nonNegRange(a, b int64) string {
	as, bs := strconv.FormatInt(a, 10), strconv.FormatInt(b, 10)
	var alts []string
	for d := len(as); d <= len(bs); d++ {
		lo, hi := as, bs
		if d > len(as) {
			lo = "1" + strings.Repeat("0", d-1)
		}
		if d < len(bs) {
			hi = strings.Repeat("9", d)
		}
		alts = append(alts, sameLength(lo, hi))
	}
	return strings.Join(alts, " | ")
}

// sameLength matches the digit strings of len(x) between x and y
// (x <= y), leading zeros included: they are inner digits.
func sameLength(x, y string) string {
	if x == y {
		return `"` + x + `"`
	}
	i := 0
	for x[i] == y[i] {
		i++
	}
	var seq []string
	if i > 0 {
		seq = append(seq, `"`+x[:i]+`"`)
	}
	xr, yr := x[i+1:], y[i+1:]
	r := len(xr)
	if r == 0 {
		return strings.Join(append(seq, digitClass(x[i], y[i])), " ")
	}
	first, last := x[i], y[i]
	var alts []string
	if xr != strings.Repeat("0", r) {
		alts = append(alts, digitClass(first, first)+" "+group(sameLength(xr, strings.Repeat("9", r))))
		first++
	}
	var high string
	if yr != strings.Repeat("9", r) {
		high = digitClass(last, last) + " " + group(sameLength(strings.Repeat("0", r), yr))
		last--
	}
	if first <= last {
		alts = append(alts, digitClass(first, last)+" "+moreDigits(r, r))
	}
	if high != "" {
		alts = append(alts, high)
	}
	return strings.Join(append(seq, group(strings.Join(alts, " | "))), " ")
}

func group(s string) string {
	if strings.Contains(s, "|") {
		return "(" + s + ")"
	}
	return s
}

func digitClass(a, b byte) string {
	if a == b {
		return "[" + string(a) + "]"
	}
	return "[" + string(a) + "-" + string(b) + "]"
}

// moreDigits matches min to max digits.
func moreDigits(min, max int) string {
	switch {
	case min == 1 && max == 1:
		return "[0-9]"
	case min == max:
		return fmt.Sprintf("[0-9]{%d}", min)
	}
	return fmt.Sprintf("[0-9]{%d,%d}", min, max)
}
