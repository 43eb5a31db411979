module github.com/llamafile-go/llamafile/pkg/ggml/cpu/_asm/neon

go 1.26.8
