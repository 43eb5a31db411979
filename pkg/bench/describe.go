package bench

import (
	"sort"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/gguf"
)

// ModelInfo describes a model file as llama-bench reports it.
type ModelInfo struct {
	// Type is llama.cpp's model description: architecture, size class
	// and file type, as in "llama 1B Q4_0" or "llama ?B all F32".
	Type string
	// Size is the bytes of all tensor data.
	Size uint64
	// Params is the number of weights, the elements of all tensors.
	Params uint64
}

// Describe returns f's ModelInfo.
func Describe(f *gguf.File) ModelInfo {
	var info ModelInfo
	for i := range f.Tensors {
		info.Size += f.Tensors[i].Size
		info.Params += f.Tensors[i].Elements()
	}
	arch := f.Architecture()
	if arch == "" {
		arch = "unknown"
	}
	info.Type = arch + " " + sizeClass(f, arch) + " " + FileTypeName(f)
	return info
}

// sizeClass returns llama.cpp's size label for the model ("1B", "7B"), or
// "?B" when llama.cpp has none for its shape. Only the llama architecture's
// table is known here.
func sizeClass(f *gguf.File, arch string) string {
	if arch != "llama" {
		return "?B"
	}
	layers, err := f.GetUint(arch + ".block_count")
	if err != nil {
		return "?B"
	}
	if experts, err := f.GetUint(arch + ".expert_count"); err == nil && experts == 8 {
		switch layers {
		case 32:
			return "8x7B"
		case 56:
			return "8x22B"
		}
		return "?B"
	}
	switch layers {
	case 16, 22:
		return "1B"
	case 26, 28:
		return "3B"
	case 30:
		return "256M"
	case 32:
		vocab := vocabSize(f, arch)
		switch {
		case vocab == 49152:
			return "3B"
		case vocab < 40000:
			return "7B"
		}
		return "8B"
	case 36:
		return "8B"
	case 40:
		return "13B"
	case 48:
		return "34B"
	case 60:
		return "30B"
	case 80:
		heads, _ := f.GetUint(arch + ".attention.head_count")
		kv, err := f.GetUint(arch + ".attention.head_count_kv")
		if err != nil || kv == heads {
			return "65B"
		}
		return "70B"
	}
	return "?B"
}

func vocabSize(f *gguf.File, arch string) int {
	if n, err := f.GetUint(arch + ".vocab_size"); err == nil {
		return int(n)
	}
	if v, ok := f.Get("tokenizer.ggml.tokens"); ok {
		return v.Len()
	}
	return 0
}

// fileTypeNames are llama.cpp's names of its llama_ftype values
// (general.file_type).
var fileTypeNames = map[uint64]string{
	0: "all F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
	10: "Q2_K - Medium", 11: "Q3_K - Small", 12: "Q3_K - Medium", 13: "Q3_K - Large",
	14: "Q4_K - Small", 15: "Q4_K - Medium", 16: "Q5_K - Small", 17: "Q5_K - Medium",
	18: "Q6_K", 19: "IQ2_XXS - 2.0625 bpw", 20: "IQ2_XS - 2.3125 bpw", 21: "Q2_K - Small",
	22: "IQ3_XS - 3.3 bpw", 23: "IQ3_XXS - 3.0625 bpw", 24: "IQ1_S - 1.5625 bpw",
	25: "IQ4_NL - 4.5 bpw", 26: "IQ3_S - 3.4375 bpw", 27: "IQ3_S mix - 3.66 bpw",
	28: "IQ2_S - 2.5 bpw", 29: "IQ2_M - 2.7 bpw", 30: "IQ4_XS - 4.25 bpw",
	31: "IQ1_M - 1.75 bpw", 32: "BF16", 36: "TQ1_0 - 1.69 bpw ternary",
	37: "TQ2_0 - 2.06 bpw ternary", 38: "MXFP4 MoE", 39: "NVFP4", 40: "Q1_0", 41: "Q2_0",
}

// guessedFileTypes maps the most common tensor type to the file type
// llama.cpp guesses for a file without general.file_type.
var guessedFileTypes = map[ggml.Type]uint64{
	ggml.TypeF32: 0, ggml.TypeF16: 1, ggml.TypeBF16: 32, ggml.TypeQ4_0: 2, ggml.TypeQ4_1: 3,
	ggml.TypeQ5_0: 8, ggml.TypeQ5_1: 9, ggml.TypeQ8_0: 7, ggml.TypeQ2_K: 10, ggml.TypeQ3_K: 12,
	ggml.TypeQ4_K: 15, ggml.TypeQ5_K: 17, ggml.TypeQ6_K: 18, ggml.TypeTQ1_0: 36,
	ggml.TypeTQ2_0: 37, ggml.TypeIQ2_XXS: 19, ggml.TypeIQ2_XS: 20, ggml.TypeIQ2_S: 28,
	ggml.TypeIQ3_XXS: 23, ggml.TypeIQ1_S: 24, ggml.TypeIQ1_M: 31, ggml.TypeIQ4_NL: 25,
	ggml.TypeIQ4_XS: 30, ggml.TypeIQ3_S: 26, ggml.TypeNVFP4: 39, ggml.TypeQ1_0: 40,
	ggml.TypeQ2_0: 41,
}

// FileTypeName returns llama.cpp's name of f's file type ("Q4_0",
// "Q4_K - Medium"): general.file_type when present, otherwise guessed from
// the most common tensor type and prefixed "(guessed) ", as llama.cpp does.
func FileTypeName(f *gguf.File) string {
	if ft, err := f.GetUint("general.file_type"); err == nil {
		if name, ok := fileTypeNames[ft]; ok {
			return name
		}
		return "unknown, may not work"
	}
	// llama.cpp counts tensors in name order and keeps the first type to
	// reach the highest count.
	names := make([]int, len(f.Tensors))
	for i := range names {
		names[i] = i
	}
	sort.Slice(names, func(a, b int) bool { return f.Tensors[names[a]].Name < f.Tensors[names[b]].Name })
	count := map[ggml.Type]int{}
	best, bestN := ggml.TypeF32, 0
	for _, i := range names {
		t := f.Tensors[i].Type
		count[t]++
		if count[t] > bestN {
			best, bestN = t, count[t]
		}
	}
	ft, ok := guessedFileTypes[best]
	if !ok {
		ft = 0
	}
	return "(guessed) " + fileTypeNames[ft]
}
