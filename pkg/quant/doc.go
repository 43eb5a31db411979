// Package quant converts GGUF models to another tensor type or quantization
// mix, choosing the type of every tensor as llama.cpp's quantizer
// (llama-quantize, without an importance matrix) does.
//
// A mix (FileType, such as Q4_K_M) names a default type and a set of rules:
// only weights of two or more dimensions are converted (norms, biases and a
// few special tensors keep their type); the output matrix, value
// projections and some feed-forward down projections get more bits,
// depending on the layer, the number of layers, grouped-query attention
// and the number of experts; and a row length that is not a multiple of
// the chosen type's block size falls back to a smaller-block type or F16.
// Plan applies these rules; Quantize runs the conversion, in parallel over
// chunks of rows, producing the same bytes as llama.cpp; QuantizeFile adds
// the file handling (no overwriting of the input, atomic replacement of the
// output).
//
// The output keeps the input's metadata in order, drops split keys and
// appends general.quantization_version (2) and general.file_type (the
// llama_ftype number of the mix). Tensors are written in llama.cpp's order:
// non-layer tensors first, then by layer number, each group sorted by name.
package quant
