package main

import (
	"fmt"
	"io"

	"github.com/llamafile-go/llamafile/pkg/engine"
)

// openModel opens the model as Bundle.OpenModel does. When --mlock could
// not lock it in memory it says so on logw, as llama.cpp does, and goes
// on.
func openModel(name string, self *engine.Bundle, opts engine.Options, logw io.Writer) (*engine.Model, error) {
	m, err := self.OpenModel(name, opts)
	if err != nil {
		return nil, err
	}
	if err := m.LockError(); err != nil {
		fmt.Fprintf(logw, "warning: --mlock: %v; the model may be paged out (raise the locked-memory limit, e.g. ulimit -l)\n", err)
	}
	return m, nil
}

// openContext opens the model as openModel does and a context for it; the
// caller closes the model.
func openContext(name string, self *engine.Bundle, opts engine.Options, logw io.Writer) (*engine.Model, *engine.Context, error) {
	m, err := openModel(name, self, opts, logw)
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
