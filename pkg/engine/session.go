package engine

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/llamafile-go/llamafile/pkg/model"
)

// sessionMagic starts a session file; the version follows it.
const (
	sessionMagic   = "llamafile-go session\x00"
	sessionVersion = 1
)

// ErrNotSession is returned (wrapped) by LoadSession for a file that is not
// a session file at all.
var ErrNotSession = errors.New("not a llamafile session file")

// ErrSessionModel is returned (wrapped) by LoadSession for a session saved
// with another model, or other cache types.
var ErrSessionModel = errors.New("the session belongs to another model or cache type")

// SaveSession writes the Context's tokens and their keys and values to the
// file at path, so that LoadSession in a later run can skip evaluating
// them again (llama.cpp's --prompt-cache). The file names the model it
// belongs to by the model file's fingerprint. It is written to a
// temporary file first and renamed, so that an interrupted save never
// leaves a damaged session behind.
func (c *Context) SaveSession(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("engine: saving the session: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, no such file
	w := bufio.NewWriterSize(tmp, 1<<20)
	err = c.writeSession(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("engine: saving the session to %s: %w", path, err)
	}
	return nil
}

func (c *Context) writeSession(w io.Writer) error {
	fp := c.m.file.Fingerprint()
	var head bytes.Buffer
	head.WriteString(sessionMagic)
	binary.Write(&head, binary.LittleEndian, uint32(sessionVersion))
	head.Write(fp[:])
	binary.Write(&head, binary.LittleEndian, uint32(len(c.tokens)))
	binary.Write(&head, binary.LittleEndian, c.tokens)
	if _, err := w.Write(head.Bytes()); err != nil {
		return err
	}
	return c.st.WriteCache(w, len(c.tokens))
}

// LoadSession replaces the Context's cache with the session SaveSession
// wrote to the file at path and returns its tokens (Tokens returns them
// too); evaluation continues after them. Rewind to the length of the
// prefix a new prompt shares with them, then evaluate the rest: at least
// the last token, since logits are not saved. A file that is not a
// session is an error wrapping ErrNotSession, a session of another model
// or other cache types one wrapping ErrSessionModel; after an error the
// cache is empty.
func (c *Context) LoadSession(path string) ([]int32, error) {
	c.tokens = c.tokens[:0]
	c.st.Truncate(0)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("engine: loading a session: %w", err)
	}
	defer f.Close()
	toks, err := c.readSession(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		c.st.Truncate(0)
		return nil, fmt.Errorf("engine: session %s: %w", path, err)
	}
	c.tokens = append(c.tokens, toks...)
	return c.tokens, nil
}

func (c *Context) readSession(r io.Reader) ([]int32, error) {
	magic := make([]byte, len(sessionMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != sessionMagic {
		return nil, ErrNotSession
	}
	var version uint32
	var fp [32]byte
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &version); err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	if version != sessionVersion {
		return nil, fmt.Errorf("version %d, this build reads version %d", version, sessionVersion)
	}
	if _, err := io.ReadFull(r, fp[:]); err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	if fp != c.m.file.Fingerprint() {
		return nil, fmt.Errorf("%w: it was saved with another model file than %s", ErrSessionModel, c.m.name)
	}
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	if int(n) > c.ContextSize() {
		return nil, fmt.Errorf("it holds %d tokens, more than the context's %d (use a larger -c)", n, c.ContextSize())
	}
	toks := make([]int32, n)
	if err := binary.Read(r, binary.LittleEndian, toks); err != nil {
		return nil, fmt.Errorf("reading its tokens: %w", err)
	}
	for i, t := range toks {
		if int(t) >= c.m.NumVocab() { // negative: an image's position (MediaTokens)
			return nil, fmt.Errorf("token %d at position %d is outside the vocabulary", t, i)
		}
	}
	got, err := c.st.ReadCache(r)
	switch {
	case errors.Is(err, model.ErrCacheMismatch):
		return nil, fmt.Errorf("%w: %v (-ctk/-ctv)", ErrSessionModel, err)
	case err != nil:
		return nil, err
	case got != len(toks):
		return nil, fmt.Errorf("its cache holds %d positions for %d tokens", got, len(toks))
	}
	return toks, nil
}
