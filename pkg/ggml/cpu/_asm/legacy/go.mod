module github.com/llamafile-go/llamafile/pkg/ggml/cpu/_asm/legacy

go 1.26.8
