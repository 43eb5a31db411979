package sample

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// refCases are tokens picked by llama.cpp's own sampler chain. They were produced
// with testdata/refsample.cpp, compiled against the llama.cpp build in
// /tmp/llama-ref (node-llama-cpp 3.21.1's libllama for linux-x64, the version of the
// project's golden files; see /work/shared/tools/reference/setup.sh), by running
// `refsample ARGS` from the library folder for each ARGS below. The program feeds
// the synthetic logits described in refLogits to a chain assembled like
// common_sampler_init's default one, accepting each picked token. The arguments
// avoid exact ties between candidates' logits, whose order C++'s std::sort leaves
// unspecified (a repeat penalty of 1.5 on these multiples of 0.25 makes ties).
var refCases = []struct{ args, want string }{
	{"n=32000 steps=24 seed=42", "15210 29749 24804 26401 23752 19066 21326 27466 11257 16800 4281 29115 540 22962 23511 2253 15798 8910 7057 11464 17624 26858 7854 12529"},
	{"n=32000 steps=24 seed=1234 top_k=0 top_p=0.9 min_p=0 shift=6", "24593 4443 5189 18854 14074 27483 11003 4795 29825 20169 4281 30867 25824 4394 8913 22034 10860 5541 20033 16121 16242 1541 7552 894"},
	{"n=32000 steps=16 seed=1235 top_k=0 top_p=0.9 min_p=0 shift=8", "4 14429 17410 1978 29777 22402 1258 138 4941 28377 20790 16372 8541 14501 5669 20327"},
	{"n=32000 steps=24 seed=7 top_k=0 top_p=1 min_p=0.05 shift=6", "7605 11170 31292 14227 9827 8904 2893 13510 690 18413 27580 9364 12392 21272 21889 22618 10860 29113 8679 24312 7748 28449 6232 25332"},
	{"n=32000 steps=16 seed=51 top_k=300 top_p=1 min_p=0 shift=5", "29531 4476 12708 23496 20790 22424 6577 707 8097 10040 7525 10502 25824 12855 25133 30180"},
	{"n=500 steps=32 seed=99 typ_p=0.7 repeat=1.3 last_n=8 freq=0.2 present=0.3 shift=2", "284 142 438 255 289 352 15 393 41 145 281 250 46 93 291 461 14 172 490 318 482 251 378 456 234 437 455 240 239 254 221 170"},
	{"n=50 steps=40 vary=0 seed=5 temp=0.7 repeat=1.37 last_n=16 freq=0.45 present=0.3 shift=2", "21 26 13 13 42 5 34 39 7 34 31 23 47 13 18 21 10 36 26 5 34 42 21 15 26 18 31 2 39 2 13 21 5 42 13 47 13 21 21 34"},
	{"n=50 steps=40 vary=0 seed=5 temp=0 repeat=1.2 last_n=4 shift=2", "21 42 13 34 5 21 42 13 34 5 21 42 13 34 5 21 42 13 34 5 21 42 13 34 5 21 42 13 34 5 21 42 13 34 5 21 42 13 34 5"},
	{"n=32000 steps=24 seed=3 nsigma=1.0 top_k=0 top_p=1 min_p=0 shift=4", "2667 28059 3127 18255 12789 531 2302 8269 3850 23538 4281 12823 6565 12855 14219 30180 22712 30803 11923 19610 8439 20120 10067 13113"},
	{"n=1000 steps=32 seed=11 xtc_p=0.5 xtc_t=0.02 top_k=100 shift=3", "815 476 670 131 283 531 436 50 751 265 690 845 145 117 78 326 971 423 356 172 155 751 610 529 660 437 132 32 17 754 276 243"},
	{"n=32000 steps=24 seed=21 mirostat=1 shift=4", "14321 29749 3127 6036 10320 27483 19704 16415 4541 15110 5903 29115 24046 29689 25724 6326 8391 30803 15167 27756 31945 25168 12720 22427"},
	{"n=300 steps=40 vary=0 seed=24 mirostat=1 tau=3 eta=0.3 shift=2", "242 121 242 252 63 5 242 63 121 63 121 184 242 68 5 121 63 63 189 242 242 63 63 242 242 189 247 247 126 121 121 242 247 121 63 242 242 121 63 242"},
	{"n=32000 steps=24 seed=22 mirostat=2 tau=3 eta=0.2 shift=4", "29531 31428 23182 10693 31357 24114 19704 19320 22220 16800 4281 604 9725 28010 7291 13888 4835 2172 7057 27756 10908 3275 8445 8456"},
	{"n=200 steps=40 vary=0 seed=23 mirostat=2 tau=1 shift=1", "121 42 121 42 121 121 121 121 121 42 121 42 42 121 42 121 42 42 121 121 121 121 42 42 42 121 121 42 121 42 121 121 42 121 42 121 121 42 121 42"},
	{"n=2000 steps=24 seed=31 dyn_range=0.5 dyn_exp=1.5 shift=4", "321 273 48 1058 715 959 790 1364 319 1645 123 1480 1009 224 1456 224 835 803 1167 1829 661 1061 1366 748"},
	{"n=1000 steps=24 seed=41 shift=3 bias=3:4 bias=5:-inf bias=999:2.5", "247 380 316 401 357 745 3 758 467 907 92 823 972 903 913 961 193 910 490 683 945 275 500 675"},
	{"n=1000 steps=20 seed=61 min_keep=5 top_p=0.2 min_p=0.5 typ_p=0.3 shift=1", "963 118 316 109 110 66 704 539 257 907 281 823 725 593 480 888 514 910 490 172"},
	{"n=100 steps=20 seed=0 temp=1.5 top_k=0 top_p=1 min_p=0", "57 80 81 82 67 45 25 7 30 41 81 50 40 86 34 67 35 96 12 84"},
	{"n=32000 steps=24 seed=77 temp=0 shift=4", "14321 1118 1505 6036 12789 19066 2893 19320 11257 5014 4281 604 9725 22962 5669 13888 8193 8910 7057 27172 6661 26858 8445 8456"},
}

// refLogits fills logits as refsample.cpp does at step s: token i gets
// k = (i*A[s%4] + 977*s) mod n (s = 0 at every step unless vary), and the logit
// k*2^-shift - n*2^-(shift+1), exact in float32.
func refLogits(logits []float32, s, shift int, vary bool) {
	a := [4]int64{7919, 104729, 1299709, 15485863}
	if !vary {
		s = 0
	}
	n := int64(len(logits))
	scale := float32(math.Ldexp(1, -shift))
	offset := float32(n) * float32(math.Ldexp(1, -shift-1))
	for i := range logits {
		k := (int64(i)*a[s%4] + 977*int64(s)) % n
		logits[i] = float32(k)*scale - offset
	}
}

// parseRefArgs turns refsample's key=value arguments into Params, with
// refsample's defaults (llama.cpp's, seed 42).
func parseRefArgs(t *testing.T, args string) (p Params, n, steps, shift int, vary bool) {
	t.Helper()
	p = DefaultParams()
	p.Seed = 42
	n, steps, shift, vary = 1000, 16, 3, true
	num := func(v string) float32 {
		f, err := strconv.ParseFloat(v, 32)
		if err != nil {
			t.Fatalf("%s: %v", args, err)
		}
		return float32(f)
	}
	for _, kv := range strings.Fields(args) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "n":
			n = int(num(v))
		case "steps":
			steps = int(num(v))
		case "shift":
			shift = int(num(v))
		case "vary":
			vary = v != "0"
		case "seed":
			s, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				t.Fatal(err)
			}
			p.Seed = uint32(s)
		case "temp":
			p.Temp = num(v)
		case "top_k":
			p.TopK = int(num(v))
		case "top_p":
			p.TopP = num(v)
		case "min_p":
			p.MinP = num(v)
		case "typ_p":
			p.TypicalP = num(v)
		case "min_keep":
			p.MinKeep = int(num(v))
		case "repeat":
			p.RepeatPenalty = num(v)
		case "last_n":
			p.RepeatLastN = int(num(v))
		case "freq":
			p.FrequencyPenalty = num(v)
		case "present":
			p.PresencePenalty = num(v)
		case "mirostat":
			p.Mirostat = int(num(v))
		case "tau":
			p.MirostatTau = num(v)
		case "eta":
			p.MirostatEta = num(v)
		case "xtc_p":
			p.XTCProbability = num(v)
		case "xtc_t":
			p.XTCThreshold = num(v)
		case "nsigma":
			p.TopNSigma = num(v)
		case "dyn_range":
			p.DynatempRange = num(v)
		case "dyn_exp":
			p.DynatempExponent = num(v)
		case "bias":
			tok, val, _ := strings.Cut(v, ":")
			if p.LogitBias == nil {
				p.LogitBias = map[int32]float32{}
			}
			p.LogitBias[int32(num(tok))] = num(val)
		default:
			t.Fatalf("%s: unknown key %q", args, k)
		}
	}
	return p, n, steps, shift, vary
}

func TestMatchesLlamaCpp(t *testing.T) {
	for _, tc := range refCases {
		t.Run(tc.args, func(t *testing.T) {
			p, n, steps, shift, vary := parseRefArgs(t, tc.args)
			s, err := New(p, n)
			if err != nil {
				t.Fatal(err)
			}
			logits := make([]float32, n)
			var got []string
			for step := range steps {
				refLogits(logits, step, shift, vary)
				tok, err := s.Sample(logits)
				if err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				s.Accept(tok)
				got = append(got, strconv.Itoa(int(tok)))
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("tokens:\n got %s\nwant %s", g, tc.want)
			}
		})
	}
}
