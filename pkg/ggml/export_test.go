package ggml

// RefElement exposes the element-by-element reference dequantizer to the
// external tests.
var RefElement = refElement
