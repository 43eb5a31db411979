package quant

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/llamafile-go/llamafile/pkg/ggml"
)

// FileType is a quantization mix, numbered as llama.cpp numbers its
// llama_ftype values; it is what general.file_type records in a GGUF file.
type FileType uint32

// The file types llama.cpp's quantizer produces. Retired ids (4-6, 33-35)
// have no constant.
const (
	FileTypeF32     FileType = 0
	FileTypeF16     FileType = 1
	FileTypeQ4_0    FileType = 2
	FileTypeQ4_1    FileType = 3
	FileTypeQ8_0    FileType = 7
	FileTypeQ5_0    FileType = 8
	FileTypeQ5_1    FileType = 9
	FileTypeQ2_K    FileType = 10
	FileTypeQ3_K_S  FileType = 11
	FileTypeQ3_K_M  FileType = 12
	FileTypeQ3_K_L  FileType = 13
	FileTypeQ4_K_S  FileType = 14
	FileTypeQ4_K_M  FileType = 15
	FileTypeQ5_K_S  FileType = 16
	FileTypeQ5_K_M  FileType = 17
	FileTypeQ6_K    FileType = 18
	FileTypeIQ2_XXS FileType = 19
	FileTypeIQ2_XS  FileType = 20
	FileTypeQ2_K_S  FileType = 21
	FileTypeIQ3_XS  FileType = 22
	FileTypeIQ3_XXS FileType = 23
	FileTypeIQ1_S   FileType = 24
	FileTypeIQ4_NL  FileType = 25
	FileTypeIQ3_S   FileType = 26
	FileTypeIQ3_M   FileType = 27
	FileTypeIQ2_S   FileType = 28
	FileTypeIQ2_M   FileType = 29
	FileTypeIQ4_XS  FileType = 30
	FileTypeIQ1_M   FileType = 31
	FileTypeBF16    FileType = 32
	FileTypeTQ1_0   FileType = 36
	FileTypeTQ2_0   FileType = 37
	FileTypeMXFP4   FileType = 38 // MXFP4_MOE
	FileTypeQ1_0    FileType = 40
	FileTypeQ2_0    FileType = 41
)

// fileTypeInfo is one row of the file type table.
type fileTypeInfo struct {
	name string    // as llama-quantize spells it
	base ggml.Type // the mix's default tensor type
}

// fileTypes maps each file type to its name and default tensor type. The
// table is never modified.
var fileTypes = map[FileType]fileTypeInfo{
	FileTypeF32:     {"F32", ggml.TypeF32},
	FileTypeF16:     {"F16", ggml.TypeF16},
	FileTypeBF16:    {"BF16", ggml.TypeBF16},
	FileTypeQ4_0:    {"Q4_0", ggml.TypeQ4_0},
	FileTypeQ4_1:    {"Q4_1", ggml.TypeQ4_1},
	FileTypeQ5_0:    {"Q5_0", ggml.TypeQ5_0},
	FileTypeQ5_1:    {"Q5_1", ggml.TypeQ5_1},
	FileTypeQ8_0:    {"Q8_0", ggml.TypeQ8_0},
	FileTypeQ1_0:    {"Q1_0", ggml.TypeQ1_0},
	FileTypeQ2_0:    {"Q2_0", ggml.TypeQ2_0},
	FileTypeMXFP4:   {"MXFP4_MOE", ggml.TypeMXFP4},
	FileTypeQ2_K:    {"Q2_K", ggml.TypeQ2_K},
	FileTypeQ2_K_S:  {"Q2_K_S", ggml.TypeQ2_K},
	FileTypeQ3_K_S:  {"Q3_K_S", ggml.TypeQ3_K},
	FileTypeQ3_K_M:  {"Q3_K_M", ggml.TypeQ3_K},
	FileTypeQ3_K_L:  {"Q3_K_L", ggml.TypeQ3_K},
	FileTypeQ4_K_S:  {"Q4_K_S", ggml.TypeQ4_K},
	FileTypeQ4_K_M:  {"Q4_K_M", ggml.TypeQ4_K},
	FileTypeQ5_K_S:  {"Q5_K_S", ggml.TypeQ5_K},
	FileTypeQ5_K_M:  {"Q5_K_M", ggml.TypeQ5_K},
	FileTypeQ6_K:    {"Q6_K", ggml.TypeQ6_K},
	FileTypeTQ1_0:   {"TQ1_0", ggml.TypeTQ1_0},
	FileTypeTQ2_0:   {"TQ2_0", ggml.TypeTQ2_0},
	FileTypeIQ2_XXS: {"IQ2_XXS", ggml.TypeIQ2_XXS},
	FileTypeIQ2_XS:  {"IQ2_XS", ggml.TypeIQ2_XS},
	FileTypeIQ2_S:   {"IQ2_S", ggml.TypeIQ2_XS},
	FileTypeIQ2_M:   {"IQ2_M", ggml.TypeIQ2_S},
	FileTypeIQ3_XS:  {"IQ3_XS", ggml.TypeIQ3_S},
	FileTypeIQ3_XXS: {"IQ3_XXS", ggml.TypeIQ3_XXS},
	FileTypeIQ3_S:   {"IQ3_S", ggml.TypeIQ3_S},
	FileTypeIQ3_M:   {"IQ3_M", ggml.TypeIQ3_S},
	FileTypeIQ1_S:   {"IQ1_S", ggml.TypeIQ1_S},
	FileTypeIQ1_M:   {"IQ1_M", ggml.TypeIQ1_M},
	FileTypeIQ4_NL:  {"IQ4_NL", ggml.TypeIQ4_NL},
	FileTypeIQ4_XS:  {"IQ4_XS", ggml.TypeIQ4_XS},
}

// aliases are the extra names llama-quantize accepts.
var aliases = map[string]FileType{
	"Q3_K": FileTypeQ3_K_M,
	"Q4_K": FileTypeQ4_K_M,
	"Q5_K": FileTypeQ5_K_M,
}

// String returns the name llama-quantize uses for ft ("Q4_K_M"), or
// "ftype(N)" for an unknown id.
func (ft FileType) String() string {
	if info, ok := fileTypes[ft]; ok {
		return info.name
	}
	return fmt.Sprintf("ftype(%d)", uint32(ft))
}

// Valid reports whether ft is a file type this package knows.
func (ft FileType) Valid() bool {
	_, ok := fileTypes[ft]
	return ok
}

// BaseType returns the mix's default tensor type, the one most weights
// get (Q4_K for Q4_K_M); ok is false for an unknown file type.
func (ft FileType) BaseType() (t ggml.Type, ok bool) {
	info, ok := fileTypes[ft]
	return info.base, ok
}

// ParseFileType parses a quantization type as llama-quantize accepts it:
// a name, case-insensitively ("q4_k_m", "Q8_0", "bf16", and the aliases
// Q3_K, Q4_K and Q5_K for the _M mixes), or a llama_ftype number ("15").
func ParseFileType(s string) (FileType, error) {
	up := strings.ToUpper(strings.TrimSpace(s))
	if ft, ok := aliases[up]; ok {
		return ft, nil
	}
	for ft, info := range fileTypes {
		if info.name == up {
			return ft, nil
		}
	}
	if n, err := strconv.ParseUint(up, 10, 32); err == nil {
		if ft := FileType(n); ft.Valid() {
			return ft, nil
		}
	}
	return 0, fmt.Errorf("quant: unknown quantization type %q", s)
}

// FileTypes returns every known file type in id order.
func FileTypes() []FileType {
	var out []FileType
	for id := FileType(0); id <= FileTypeQ2_0; id++ {
		if id.Valid() {
			out = append(out, id)
		}
	}
	return out
}

// Supported reports whether the tensor type the mix ft uses by default can
// be produced by this build's quantizers (see ggml.CanQuantize) without an
// importance matrix.
// Individual tensors of a mix may still need other types; Plan checks them.
func (ft FileType) Supported() bool {
	t, ok := ft.BaseType()
	return ok && ggml.CanQuantize(t) && !needsImatrix("blk.0.ffn_up.weight", t, ft)
}
