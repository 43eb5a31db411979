package engine

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/llamafile-go/llamafile/pkg/ggml/cpu"
	"github.com/llamafile-go/llamafile/pkg/gguf"
	"github.com/llamafile-go/llamafile/pkg/vision"
	"github.com/llamafile-go/llamafile/pkg/zipalign"
)

// Projector is an opened vision projector (an mmproj GGUF file: a CLIP
// encoder and the projection into a text model's embeddings). It is safe
// for concurrent use; images are encoded one at a time.
type Projector struct {
	name string
	file *gguf.File
	enc  *vision.Encoder

	mu     sync.Mutex // serializes EncodeImage on pool; guards closed
	pool   *cpu.Pool
	closed bool
}

// ErrProjectorClosed is returned by EncodeImage after Close.
var ErrProjectorClosed = errors.New("engine: vision projector closed")

// OpenProjector opens the mmproj file at path, encoding with threads
// threads (0: all CPUs).
func OpenProjector(path string, threads int) (*Projector, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--mmproj %s: %w", path, err)
	}
	p, err := newProjector(f, path, threads)
	if err != nil {
		f.Close()
		return nil, err
	}
	return p, nil
}

func newProjector(f *gguf.File, name string, threads int) (*Projector, error) {
	if !vision.IsProjector(f) {
		return nil, fmt.Errorf("--mmproj %s: not a vision projector (architecture %q, no clip.* keys)", name, f.Architecture())
	}
	enc, err := vision.Load(f, name)
	if err != nil {
		return nil, fmt.Errorf("--mmproj %s: %w", name, err)
	}
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	return &Projector{name: name, file: f, enc: enc, pool: cpu.NewPool(threads)}, nil
}

// OpenProjector resolves an mmproj name as --mmproj takes it: a file on
// disk, "/zip/NAME" or a NAME in the executable's zip (a llamafile
// carrying both the model and its projector), and opens it.
func (b *Bundle) OpenProjector(name string, threads int) (*Projector, error) {
	if b == nil {
		b = &Bundle{}
	}
	entry, inZip := strings.CutPrefix(name, "/zip/")
	if !inZip {
		if st, err := os.Stat(name); err == nil && !st.IsDir() {
			return OpenProjector(name, threads)
		}
		if b.zip == nil {
			return nil, fmt.Errorf("--mmproj %s: no such file", name)
		}
		if _, ok := b.zip.Lookup(name); !ok {
			return nil, fmt.Errorf("--mmproj %s: no such file on disk or in the zip of %s", name, b.path)
		}
	}
	if b.zip == nil {
		return nil, fmt.Errorf("--mmproj %s: %s carries no zip archive", name, b.path)
	}
	e, ok := b.zip.Lookup(entry)
	if !ok {
		return nil, fmt.Errorf("--mmproj %s: no such entry in the zip of %s", name, b.path)
	}
	display := b.path + ":" + entry
	if e.Method != zipalign.Store {
		return nil, fmt.Errorf("--mmproj %s: the entry is compressed (zip method %d); store it uncompressed with zipalign", display, e.Method)
	}
	if !e.IsAligned(int64(os.Getpagesize())) {
		return nil, fmt.Errorf("--mmproj %s: the entry's data is not page-aligned: re-add it with zipalign", display)
	}
	f, err := gguf.OpenFile(b.zip.File(), e.DataOffset, int64(e.UncompressedSize))
	if err != nil {
		return nil, fmt.Errorf("--mmproj %s: %w", display, err)
	}
	p, err := newProjector(f, display, threads)
	if err != nil {
		f.Close()
		return nil, err
	}
	return p, nil
}

// Close releases the projector's threads and file, after the encode in
// progress, if any, ends (a request's encode stops at its next block once
// its context is done). EncodeImage fails with ErrProjectorClosed after
// it; closing again does nothing.
func (p *Projector) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	p.pool.Close()
	return p.file.Close()
}

// Name is the projector's file, as messages name it.
func (p *Projector) Name() string { return p.name }

// Encoder returns the vision encoder.
func (p *Projector) Encoder() *vision.Encoder { return p.enc }

// OutEmbd is the width of the embeddings the projector makes: the text
// model's n_embd it is for.
func (p *Projector) OutEmbd() int { return p.enc.P.OutEmbd }

// ErrProjectorMismatch is returned (wrapped) by Projector.Check.
var ErrProjectorMismatch = errors.New("the projector does not fit the model")

// Check reports whether the projector's output fits the model's input
// embeddings (an error wrapping ErrProjectorMismatch if not).
func (p *Projector) Check(m *Model) error {
	if m.m == nil {
		return fmt.Errorf("engine: cannot use a projector: %w", ErrVocabOnly)
	}
	if w := m.m.Params.Embd; w != p.OutEmbd() {
		return fmt.Errorf("%w: --mmproj %s makes embeddings of %d values, the model %s takes %d (n_embd): the projector belongs to another model", ErrProjectorMismatch, p.name, p.OutEmbd(), m.Name(), w)
	}
	if !m.m.TakesEmbeddings() {
		return fmt.Errorf("%w: the model's architecture %s does not take image embeddings", ErrProjectorMismatch, m.Arch())
	}
	return nil
}

// EncodeImage decodes an image file's bytes (JPEG, PNG, GIF, BMP, WebP;
// at most maxPixels pixels, 0 for vision.DefaultMaxPixels) and encodes
// it. Errors from bad data wrap vision.ErrBadImage.
func (p *Projector) EncodeImage(ctx context.Context, data []byte, maxPixels int) (*Image, error) {
	img, err := vision.DecodeImage(data, maxPixels)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrProjectorClosed
	}
	embd, err := p.enc.Encode(ctx, p.pool, img)
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	d := p.OutEmbd()
	return &Image{Embd: embd, Rows: len(embd) / d, Hash: sha256.Sum256(data)}, nil
}
