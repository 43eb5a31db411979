package main

import (
	"fmt"
	"io"

	"github.com/llamafile-go/llamafile/pkg/engine"
)

// openContext opens the model as Bundle.OpenModel does and a context for it; the
// caller closes the model.
func openContext(name string, self *engine.Bundle, opts engine.Options) (*engine.Model, *engine.Context, error) {
	m, err := self.OpenModel(name, opts)
	if err != nil {
		return nil, nil, err
	}
	c, err := m.NewContext()
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("%s: %w", m.Name(), err)
	}
	return m, c, nil
}

// warnTrainedContext warns, as llama.cpp does, when a context of nCtx
// tokens is longer than the model was trained on.
func warnTrainedContext(logw io.Writer, m *engine.Model, nCtx int) {
	if train := m.Params().ContextLength; train > 0 && nCtx > train {
		fmt.Fprintf(logw, "warning: model was trained on only %d context tokens (%d specified)\n", train, nCtx)
	}
}
