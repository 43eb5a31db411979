package quant

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// Model holds the hyperparameters that llama.cpp's choice of tensor types
// depends on.
type Model struct {
	Arch    string // general.architecture ("llama", "falcon", ...)
	NLayer  int    // <arch>.block_count
	NHead   int    // <arch>.attention.head_count (of the first layer)
	NHeadKV int    // <arch>.attention.head_count_kv (of the first layer)
	NExpert int    // <arch>.expert_count, 0 for dense models
}

// ModelFromGGUF reads the hyperparameters of f. general.architecture and
// <arch>.block_count are required; head counts and the expert count are
// optional (head_count_kv defaults to head_count). Per-layer arrays of head
// counts are accepted; their first element is used, as llama.cpp does.
func ModelFromGGUF(f *gguf.File) (Model, error) {
	m, err := modelFromGGUF(f)
	if err != nil {
		return m, fmt.Errorf("quant: %w", err)
	}
	return m, nil
}

func modelFromGGUF(f *gguf.File) (Model, error) {
	var m Model
	v, ok := f.Get("general.architecture")
	if !ok {
		return m, errors.New(`key "general.architecture" is missing`)
	}
	arch, ok := v.V.(string)
	if !ok || v.Type != gguf.TypeString {
		return m, fmt.Errorf(`key "general.architecture": have %s, want string`, v.TypeName())
	}
	m.Arch = arch
	n, err := intKey(f, arch+".block_count", true)
	if err != nil {
		return m, err
	}
	if n <= 0 {
		return m, fmt.Errorf("key %q: %d layers", arch+".block_count", n)
	}
	m.NLayer = n
	if m.NHead, err = intKey(f, arch+".attention.head_count", false); err != nil {
		return m, err
	}
	m.NHeadKV = m.NHead
	if _, ok := f.Get(arch + ".attention.head_count_kv"); ok {
		if m.NHeadKV, err = intKey(f, arch+".attention.head_count_kv", false); err != nil {
			return m, err
		}
	}
	if m.NExpert, err = intKey(f, arch+".expert_count", false); err != nil {
		return m, err
	}
	return m, nil
}

// intKey reads an integer key, or the first element of an integer array;
// an absent key is 0 unless required.
func intKey(f *gguf.File, key string, required bool) (int, error) {
	v, ok := f.Get(key)
	if !ok {
		if required {
			return 0, fmt.Errorf("key %q is missing", key)
		}
		return 0, nil
	}
	var x int64
	if v.Type == gguf.TypeArray {
		a, err := f.GetInt32s(key)
		if err != nil {
			return 0, err
		}
		if len(a) > 0 {
			x = int64(a[0])
		}
	} else {
		i, err := f.GetInt(key)
		if err != nil {
			return 0, err
		}
		x = i
	}
	if x < 0 || x > math.MaxInt32 {
		return 0, fmt.Errorf("key %q: value %d out of range", key, x)
	}
	return int(x), nil
}

// gqa is the number of query heads per key/value head (0 without KV heads).
func (m *Model) gqa() int {
	if m.NHeadKV == 0 {
		return 0
	}
	return m.NHead / m.NHeadKV
}

// is70B reports whether llama.cpp classifies the model as a 70B one, which
// gets a larger type for attn_v.
func (m *Model) is70B() bool {
	switch m.Arch {
	case "llama":
		return m.NExpert != 8 && m.NLayer == 80 && m.NHead != m.NHeadKV
	case "qwen2", "deci", "olmo":
		return m.NLayer == 80
	case "jais2":
		return m.NLayer == 68
	}
	return false
}

// category is the role of a tensor as the type rules see it.
type category int

const (
	catOther category = iota
	catTokenEmbd
	catOutput
	catAttnQ
	catAttnK
	catAttnV
	catAttnQKV
	catAttnKVB
	catAttnOutput
	catFFNUp
	catFFNGate
	catFFNDown
)

// categorize classifies a tensor by its name, as llama.cpp does (by
// substring, so "blk.0.ffn_down_exps.weight" is an ffn_down tensor).
func categorize(name string) category {
	has := func(s string) bool { return strings.Contains(name, s) }
	switch {
	case name == "output.weight":
		return catOutput
	case name == "token_embd.weight" || name == "per_layer_token_embd.weight":
		return catTokenEmbd
	case has("attn_qkv.weight"):
		return catAttnQKV
	case has("attn_kv_b.weight"):
		return catAttnKVB
	case has("attn_v.weight"):
		return catAttnV
	case has("attn_k.weight"):
		return catAttnK
	case has("attn_q.weight"):
		return catAttnQ
	case has("attn_output.weight"):
		return catAttnOutput
	case has("ffn_up"):
		return catFFNUp
	case has("ffn_gate"):
		return catFFNGate
	case has("ffn_down"):
		return catFFNDown
	}
	return catOther
}

// isAttnV reports whether c is one of the value projections, which are the
// most sensitive to quantization.
func (c category) isAttnV() bool {
	return c == catAttnV || c == catAttnQKV || c == catAttnKVB
}

// neverQuantized lists name fragments of weights that keep their type:
// expert routers, tiny per-layer tables, convolutions, positional tables and
// multimodal projector parts.
var neverQuantized = []string{
	"_norm.weight",
	"ffn_gate_inp.weight",
	"ffn_gate_tid2eid.weight",
	"altup",
	"laurel",
	"per_layer_model_proj",
	"ssm_conv1d",
	"shortconv.conv.weight",
	"indexer.k_proj.weight",
	"indexer.q_proj.weight",
	"time_mix_first.weight",
	"time_mix_w0.weight",
	"time_mix_w1.weight",
	"time_mix_w2.weight",
	"time_mix_v0.weight",
	"time_mix_v1.weight",
	"time_mix_v2.weight",
	"time_mix_a0.weight",
	"time_mix_a1.weight",
	"time_mix_a2.weight",
	"time_mix_g1.weight",
	"time_mix_g2.weight",
	"time_mix_decay_w1.weight",
	"time_mix_decay_w2.weight",
	"time_mix_lerp_fused.weight",
	"attn_rel_b.weight",
	".position_embd",
	"sam.pos_embd",
	"sam.neck.",
	"sam.net_",
	".rel_pos",
	".patch_embd",
	".patch_merger",
	"a.rvq.codebook",
	"mm.a.code_embd",
}

// nDims is the number of dimensions ignoring trailing ones, as ggml counts
// them: a [256, 1] tensor is one-dimensional.
func nDims(dims []uint64) int {
	for i := len(dims) - 1; i >= 1; i-- {
		if dims[i] != 1 {
			return i + 1
		}
	}
	return 1
}

// Quantizable reports whether llama.cpp's quantizer may change the type of
// a tensor with this name and shape: weights of two or more dimensions
// whose names end in "weight", except normalization weights, expert
// routers, positional and token-type embeddings and a list of small
// special tensors. Other tensors are copied unchanged.
func Quantizable(name string, dims []uint64) bool {
	if nDims(dims) < 2 {
		return false
	}
	// llama.cpp tests "ends with weight" with rfind and unsigned
	// arithmetic, which also accepts any name of exactly five bytes; we
	// keep that so the same tensors are chosen.
	if !strings.HasSuffix(name, "weight") && len(name) != 5 {
		return false
	}
	for _, s := range neverQuantized {
		if strings.Contains(name, s) {
			return false
		}
	}
	// Positional embeddings and BERT's token types.
	return name != "position_embd.weight" && name != "token_types.weight"
}

// layerOf parses the layer number of a "blk.N.…" name the way C's sscanf
// "blk.%d." does (leading spaces and a sign allowed); ok is false when the
// name has no number there.
func layerOf(name string) (layer int, ok bool) {
	s, found := strings.CutPrefix(name, "blk.")
	if !found {
		return 0, false
	}
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n, digits := 0, 0
	for ; digits < len(s) && s[digits] >= '0' && s[digits] <= '9'; digits++ {
		if n < math.MaxInt32 {
			n = n*10 + int(s[digits]-'0')
		}
	}
	if digits == 0 {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// sortKey orders tensors as llama.cpp's quantizer writes them: tensors
// outside any layer first, then by layer number, each group by name.
func sortKey(name string) int {
	if l, ok := layerOf(name); ok {
		return l
	}
	return -1
}

// Choice is the plan for one tensor.
type Choice struct {
	Index int       // index of the tensor in the input's tensor list
	Name  string    // tensor name
	Dims  []uint64  // shape, ne0 first
	From  ggml.Type // type in the input
	To    ggml.Type // type in the output (From when copied)
	// Quantizable is true when the tensor is a weight whose type the mix
	// decides (see Quantizable); others are copied unchanged.
	Quantizable bool
	// Fallback is true when the mix's type for this tensor does not fit
	// its row length and To is a substitute; Wanted is the mix's type.
	Fallback bool
	Wanted   ggml.Type
}

// Convert reports whether the tensor's data changes type.
func (c *Choice) Convert() bool { return c.From != c.To }

// Plan chooses the output type of every tensor for file type ft, as
// llama.cpp's quantizer (without an importance matrix or overrides) does,
// and returns one Choice per tensor in the order llama.cpp writes them.
//
// It fails when a rule needs a layer number a tensor name lacks (mixture of
// experts models), when a row length has no usable fallback type, or when
// a tensor would need an importance matrix.
func Plan(ft FileType, m Model, tensors []gguf.TensorInfo) ([]Choice, error) {
	choices, err := plan(ft, m, tensors)
	if err != nil {
		return nil, fmt.Errorf("quant: %w", err)
	}
	return choices, nil
}

func plan(ft FileType, m Model, tensors []gguf.TensorInfo) ([]Choice, error) {
	base, ok := ft.BaseType()
	if !ok {
		return nil, fmt.Errorf("unknown file type %d", uint32(ft))
	}
	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		na, nb := tensors[order[a]].Name, tensors[order[b]].Name
		if ka, kb := sortKey(na), sortKey(nb); ka != kb {
			return ka < kb
		}
		return na < nb
	})

	s := &selector{ft: ft, m: m, tied: true, nLayer: m.NLayer}
	for _, t := range tensors {
		c := categorize(t.Name)
		if c.isAttnV() {
			s.nAttnV++
		}
		if c == catOutput {
			s.tied = false
		}
	}

	choices := make([]Choice, len(tensors))
	for k, i := range order {
		t := &tensors[i]
		c := Choice{Index: i, Name: t.Name, Dims: t.Dims, From: t.Type, To: t.Type, Wanted: t.Type}
		c.Quantizable = Quantizable(t.Name, t.Dims)
		if c.Quantizable {
			c.To = base
			if base.IsQuantized() {
				want, err := s.choose(t, base)
				if err != nil {
					return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
				}
				c.Wanted = want
				c.To, c.Fallback, err = fallback(t.Dims[0], want)
				if err != nil {
					return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
				}
			} else {
				c.Wanted = base
			}
			if needsImatrix(t.Name, c.To, ft) {
				return nil, fmt.Errorf("tensor %q: type %s needs an importance matrix, which this quantizer does not support", t.Name, c.To)
			}
		}
		choices[k] = c
	}
	return choices, nil
}

// selector holds the state of the type rules while walking the tensors in
// output order: how many value projections and feed-forward tensors were
// seen so far, and in all.
type selector struct {
	ft     FileType
	m      Model
	tied   bool // no output.weight: token_embd doubles as the output matrix
	nAttnV int
	nLayer int // ffn tensors per kind: one per layer
	iAttnV int
	iDown  int
	iGate  int
	iUp    int
}

// moreBits is llama.cpp's use_more_bits: the first and last eighth of the
// layers and every third layer in between get more bits.
func moreBits(i, n int) bool {
	return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2
}

// layer returns the layer of an ffn tensor: its position among its kind
// for dense models, and the number in its name for mixtures of experts
// (whose expert tensors need not be consecutive).
func (s *selector) layer(counter int, name string) (int, error) {
	if max(1, s.m.NExpert) <= 1 {
		return counter, nil
	}
	l, ok := layerOf(name)
	if !ok {
		return 0, errors.New("cannot determine its layer from the name")
	}
	if l < 0 || l >= s.nLayer {
		return 0, fmt.Errorf("layer %d is outside [0, %d)", l, s.nLayer)
	}
	return l, nil
}

// lowBitIQ reports whether ft is one of the 1-2 bit IQ mixes, which have
// their own rules.
func (ft FileType) lowBitIQ() bool {
	switch ft {
	case FileTypeIQ2_XXS, FileTypeIQ2_XS, FileTypeIQ1_S, FileTypeIQ2_S, FileTypeIQ2_M, FileTypeIQ1_M:
		return true
	}
	return false
}

// choose returns the mix's type for quantizable tensor t before any
// fallback for its row length; typ is the mix's default type.
func (s *selector) choose(t *gguf.TensorInfo, typ ggml.Type) (ggml.Type, error) {
	ft, m := s.ft, &s.m
	cat := categorize(t.Name)

	// The output matrix (or the token embeddings standing in for it).
	if cat == catOutput || (s.tied && cat == catTokenEmbd) {
		switch {
		case ft == FileTypeMXFP4:
			return ggml.TypeQ8_0, nil
		case m.Arch == "falcon" || int(t.Dims[0]%uint64(typ.BlockSize())) != 0:
			return ggml.TypeQ8_0, nil
		case ft.lowBitIQ() || ft == FileTypeIQ3_XXS:
			return ggml.TypeQ5_K, nil
		case typ != ggml.TypeQ8_0:
			return ggml.TypeQ6_K, nil
		}
		return typ, nil
	}
	if ft == FileTypeMXFP4 {
		// Expert tensors (3-D) get MXFP4, everything else Q8_0; for
		// bailingmoe3 only the expert feed-forward tensors count.
		expert := len(t.Dims) > 2 && t.Dims[2] > 1
		if m.Arch == "bailingmoe3" && cat != catFFNUp && cat != catFFNGate && cat != catFFNDown {
			expert = false
		}
		if expert {
			return ggml.TypeMXFP4, nil
		}
		return ggml.TypeQ8_0, nil
	}
	if cat == catTokenEmbd {
		switch ft {
		case FileTypeIQ2_XXS, FileTypeIQ2_XS, FileTypeIQ1_S, FileTypeIQ1_M:
			return ggml.TypeQ2_K, nil
		case FileTypeIQ2_S, FileTypeIQ2_M, FileTypeIQ3_XXS:
			return ggml.TypeIQ3_S, nil
		case FileTypeTQ1_0, FileTypeTQ2_0, FileTypeQ2_0:
			return ggml.TypeQ4_K, nil
		}
		return typ, nil
	}
	if ft.lowBitIQ() {
		return s.chooseLowBit(cat, typ), nil
	}

	switch {
	case cat.isAttnV():
		// Fused QKV and MLA's kv_b projections count as value
		// projections too (llama.cpp's own QKV rule is never reached).
		typ = s.attnV(typ)
		s.iAttnV++
	case cat == catAttnK:
		switch {
		case m.NExpert == 8:
			typ = ggml.TypeQ8_0
		case ft == FileTypeIQ3_XS:
			typ = ggml.TypeIQ3_XXS
		case ft == FileTypeIQ3_XXS:
			typ = ggml.TypeIQ2_S
		}
	case cat == catAttnQ:
		switch ft {
		case FileTypeIQ3_XS:
			typ = ggml.TypeIQ3_XXS
		case FileTypeIQ3_XXS:
			typ = ggml.TypeIQ2_S
		}
	case cat == catFFNDown:
		l, err := s.layer(s.iDown, t.Name)
		if err != nil {
			return 0, err
		}
		typ = s.ffnDown(typ, l, s.nLayer)
		s.iDown++
	case cat == catAttnOutput:
		typ = s.attnOutput(typ)
	case cat == catFFNGate || cat == catFFNUp:
		counter := &s.iGate
		if cat == catFFNUp {
			counter = &s.iUp
		}
		l, err := s.layer(*counter, t.Name)
		if err != nil {
			return 0, err
		}
		if ft == FileTypeIQ3_XS && l >= s.nLayer/8 && l < 7*s.nLayer/8 {
			typ = ggml.TypeIQ3_XXS
		}
		*counter++
	}
	return typ, nil
}

// chooseLowBit holds the rules of the 1-2 bit IQ mixes for tensors other
// than the embeddings and the output.
func (s *selector) chooseLowBit(cat category, typ ggml.Type) ggml.Type {
	ft, m := s.ft, &s.m
	iq2sm := ft == FileTypeIQ2_S || ft == FileTypeIQ2_M
	switch {
	case cat.isAttnV():
		switch {
		case m.gqa() >= 4 || m.NExpert >= 4:
			typ = ggml.TypeQ4_K
		case iq2sm:
			typ = ggml.TypeIQ3_S
		default:
			typ = ggml.TypeQ2_K
		}
		s.iAttnV++
	case m.NExpert == 8 && cat == catAttnK:
		typ = ggml.TypeQ4_K
	case cat == catFFNDown:
		if s.iDown < s.nLayer/8 {
			typ = ggml.TypeQ2_K
			if iq2sm {
				typ = ggml.TypeIQ3_S
			}
		}
		s.iDown++
	case cat == catAttnOutput:
		switch {
		case m.NExpert == 8:
			typ = ggml.TypeQ5_K
		case ft == FileTypeIQ1_S || ft == FileTypeIQ1_M:
			typ = ggml.TypeIQ2_XXS
		case iq2sm:
			typ = ggml.TypeIQ3_S
		}
	}
	return typ
}

// attnV returns the type of a value projection (before the counter moves).
func (s *selector) attnV(typ ggml.Type) ggml.Type {
	ft, m := s.ft, &s.m
	gqa4 := m.gqa() >= 4
	switch {
	case ft == FileTypeQ2_K:
		typ = ggml.TypeQ3_K
		if gqa4 {
			typ = ggml.TypeQ4_K
		}
	case ft == FileTypeQ2_K_S && gqa4:
		typ = ggml.TypeQ4_K
	case ft == FileTypeIQ3_XXS:
		// Without an importance matrix (always, here) IQ3_S.
		typ = ggml.TypeIQ3_S
		if gqa4 {
			typ = ggml.TypeQ4_K
		}
	case (ft == FileTypeIQ3_XS || ft == FileTypeIQ3_S) && gqa4:
		typ = ggml.TypeQ4_K
	case ft == FileTypeIQ3_M:
		typ = ggml.TypeQ4_K
	case ft == FileTypeQ3_K_M:
		typ = ggml.TypeQ4_K
		if s.iAttnV < 2 {
			typ = ggml.TypeQ5_K
		}
	case ft == FileTypeQ3_K_L:
		typ = ggml.TypeQ5_K
	case (ft == FileTypeIQ4_NL || ft == FileTypeIQ4_XS) && gqa4:
		typ = ggml.TypeQ5_K
	case (ft == FileTypeQ4_K_M || ft == FileTypeQ5_K_M) && moreBits(s.iAttnV, s.nAttnV):
		typ = ggml.TypeQ6_K
	case ft == FileTypeQ4_K_S && s.iAttnV < 4:
		typ = ggml.TypeQ5_K
	}
	if m.is70B() && (typ == ggml.TypeQ3_K || typ == ggml.TypeQ4_K) {
		// Eight query heads share each value head: more bits are cheap.
		typ = ggml.TypeQ5_K
	}
	if m.NExpert == 8 {
		typ = ggml.TypeQ8_0
	}
	return typ
}

// ffnDown returns the type of the down projection of layer l of n.
func (s *selector) ffnDown(typ ggml.Type, l, n int) ggml.Type {
	ft := s.ft
	falcon := s.m.Arch == "falcon"
	switch {
	case ft == FileTypeQ2_K:
		return ggml.TypeQ3_K
	case ft == FileTypeQ2_K_S:
		if l < n/8 {
			return ggml.TypeQ4_K
		}
	case ft == FileTypeIQ3_XXS:
		// Without an importance matrix.
		if l < n/8 {
			return ggml.TypeQ4_K
		}
		return ggml.TypeQ3_K
	case ft == FileTypeQ3_K_M:
		switch {
		case l < n/16:
			return ggml.TypeQ5_K
		case !falcon || moreBits(l, n):
			return ggml.TypeQ4_K
		}
		return ggml.TypeQ3_K
	case ft == FileTypeIQ3_M && (l < n/8 || (s.m.NExpert == 8 && moreBits(l, n))):
		return ggml.TypeQ4_K
	case ft == FileTypeQ3_K_L:
		if falcon {
			return ggml.TypeQ4_K
		}
		return ggml.TypeQ5_K
	case ft == FileTypeQ4_K_M:
		switch {
		case falcon && l < n/16:
			return ggml.TypeQ6_K
		case falcon && moreBits(l, n):
			return ggml.TypeQ5_K
		case falcon:
			return ggml.TypeQ4_K
		case moreBits(l, n):
			return ggml.TypeQ6_K
		}
	case l < n/8 && (ft == FileTypeIQ4_NL || ft == FileTypeIQ4_XS):
		// Without an importance matrix.
		return ggml.TypeQ5_K
	case ft == FileTypeQ5_K_M && moreBits(l, n):
		return ggml.TypeQ6_K
	case ft == FileTypeQ4_K_S && !falcon && l < n/8:
		return ggml.TypeQ5_K
	}
	// Q4_0/Q5_0 bump early layers only with an importance matrix.
	return typ
}

// attnOutput returns the type of the attention output projection.
func (s *selector) attnOutput(typ ggml.Type) ggml.Type {
	ft := s.ft
	if s.m.Arch == "falcon" {
		if ft == FileTypeQ3_K_L {
			return ggml.TypeQ4_K
		}
		return typ
	}
	if s.m.NExpert == 8 {
		switch ft {
		case FileTypeQ2_K, FileTypeIQ3_XS, FileTypeIQ3_XXS, FileTypeQ3_K_S, FileTypeQ3_K_M,
			FileTypeIQ4_NL, FileTypeQ4_K_S, FileTypeQ4_K_M, FileTypeIQ3_S, FileTypeIQ3_M, FileTypeIQ4_XS:
			return ggml.TypeQ5_K
		}
		return typ
	}
	switch ft {
	case FileTypeQ2_K:
		return ggml.TypeQ3_K
	case FileTypeIQ3_XXS:
		return ggml.TypeIQ3_S
	case FileTypeQ3_K_M, FileTypeIQ3_M:
		return ggml.TypeQ4_K
	case FileTypeQ3_K_L:
		return ggml.TypeQ5_K
	}
	return typ
}

// fallback returns the type to use for rows of ncols elements when want
// does not fit: the 256-element K and IQ types fall back to a 32-element
// type, and anything that still does not fit to F16.
func fallback(ncols uint64, want ggml.Type) (t ggml.Type, fellBack bool, err error) {
	bs := uint64(want.BlockSize())
	if bs == 0 {
		return 0, false, fmt.Errorf("unknown type %s", want)
	}
	if ncols%bs == 0 {
		return want, false, nil
	}
	switch want {
	case ggml.TypeIQ1_S, ggml.TypeIQ1_M, ggml.TypeIQ2_XXS, ggml.TypeIQ2_XS, ggml.TypeIQ2_S,
		ggml.TypeIQ3_XXS, ggml.TypeIQ3_S, ggml.TypeIQ4_XS:
		t = ggml.TypeIQ4_NL
	case ggml.TypeQ2_0, ggml.TypeQ2_K, ggml.TypeQ3_K, ggml.TypeTQ1_0, ggml.TypeTQ2_0:
		t = ggml.TypeQ4_0
	case ggml.TypeQ4_K:
		t = ggml.TypeQ5_0
	case ggml.TypeQ5_K:
		t = ggml.TypeQ5_1
	case ggml.TypeQ6_K:
		t = ggml.TypeQ8_0
	default:
		if bs > 32 {
			return 0, false, fmt.Errorf("row length %d is not a multiple of %d (type %s) and %s has no fallback type", ncols, bs, want, want)
		}
		t = want
	}
	if ncols%uint64(t.BlockSize()) != 0 {
		t = ggml.TypeF16
	}
	return t, true, nil
}

// needsImatrix reports whether llama.cpp refuses to produce type t for the
// named tensor without an importance matrix.
func needsImatrix(name string, t ggml.Type, ft FileType) bool {
	if categorize(name) == catOutput || name == "token_embd.weight" || name == "per_layer_token_embd.weight" {
		return false
	}
	switch t {
	case ggml.TypeIQ3_XXS, ggml.TypeIQ2_XXS, ggml.TypeIQ2_XS, ggml.TypeIQ2_S, ggml.TypeIQ1_M, ggml.TypeIQ1_S:
		return true
	case ggml.TypeQ2_K:
		return ft == FileTypeQ2_K_S
	}
	return false
}
