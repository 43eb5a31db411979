module github.com/llamafile-go/llamafile/pkg/ggml/cpu/_asm/kquant

go 1.26.8
