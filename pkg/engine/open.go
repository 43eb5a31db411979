package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/llamafile-go/llamafile/pkg/args"
	"github.com/llamafile-go/llamafile/pkg/gguf"
	"github.com/llamafile-go/llamafile/pkg/zipalign"
)

// maxArgsSize bounds the .args entry read from the executable's zip.
const maxArgsSize = 1 << 20

// Bundle is the zip archive appended to an executable (a llamafile), if
// any: the model weights and the default arguments (.args) it carries.
type Bundle struct {
	path string            // file holding the archive
	zip  *zipalign.Archive // nil when the file carries no archive
}

// OpenBundle finds the zip archive at the end of the file at path (the
// running executable, or what LLAMAFILE_SELF names). A file without an
// archive, or an empty path, gives an empty Bundle, not an error.
func OpenBundle(path string) (*Bundle, error) {
	s := &Bundle{path: path}
	if path == "" {
		return s, nil
	}
	a, err := zipalign.Open(path)
	if errors.Is(err, zipalign.ErrNoArchive) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the zip archive of %s: %w", path, err)
	}
	s.zip = a
	return s, nil
}

// Close closes the archive. Models opened from it stay usable.
func (b *Bundle) Close() error {
	if b == nil || b.zip == nil {
		return nil
	}
	return b.zip.Close()
}

// ExpandArgs puts the arguments of the archive's .args entry, if any,
// before the user's (or in place of "...").
func (b *Bundle) ExpandArgs(user []string) ([]string, error) {
	if b == nil || b.zip == nil {
		return user, nil
	}
	e, ok := b.zip.Lookup(".args")
	if !ok {
		return user, nil
	}
	data, err := b.zip.ReadAll(e, maxArgsSize)
	if err != nil {
		return nil, fmt.Errorf("%s: .args: %w", b.path, err)
	}
	fileArgs, err := args.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: .args: %w", b.path, err)
	}
	return args.Expand(fileArgs, user), nil
}

// ggufEntries returns the names of the archive's .gguf files that are
// models, sorted, and of those that are vision projectors (mmproj GGUFs,
// general.architecture "clip"), which a llamafile may carry beside its
// model for --mmproj and which are never the model it runs.
func ggufEntries(a *zipalign.Archive) (models, projectors []string) {
	for _, e := range a.Entries() {
		if e.IsDir() || !strings.HasSuffix(strings.ToLower(e.Name), ".gguf") {
			continue
		}
		if isProjectorEntry(a, &e) {
			projectors = append(projectors, e.Name)
		} else {
			models = append(models, e.Name)
		}
	}
	sort.Strings(models)
	sort.Strings(projectors)
	return models, projectors
}

// isProjectorEntry reports whether the zip entry e is a vision projector.
// Only its metadata is read (the entry is mapped, not copied); an entry
// that cannot be mapped or parsed counts as a model, so that opening it
// says what is wrong.
func isProjectorEntry(a *zipalign.Archive, e *zipalign.Entry) bool {
	if e.Method != zipalign.Store || a.File() == nil {
		return false
	}
	gf, err := gguf.OpenFile(a.File(), e.DataOffset, int64(e.UncompressedSize))
	if err != nil {
		return false
	}
	defer gf.Close()
	return gf.Architecture() == projectorArch
}

// projectorArch is the general.architecture of llama.cpp's mmproj GGUFs.
const projectorArch = "clip"

// noModelInZip says why a zip (in where) gives no model: none of its
// .gguf files, or only vision projectors.
func noModelInZip(where string, projectors []string) string {
	if len(projectors) > 0 {
		return fmt.Sprintf("%s holds no model, only the vision projector %s (for --mmproj)", where, strings.Join(projectors, ", "))
	}
	return where + " holds no .gguf file"
}

// OpenModel resolves a model name as llamafile's -m takes it (which may
// be empty) and opens the model:
//   - "" uses the only model in the executable's zip (a .gguf that is
//     not a vision projector);
//   - "/zip/NAME" is NAME in the executable's zip;
//   - an existing file is opened as GGUF, or, when it is not one, as a
//     llamafile whose zip holds exactly one model;
//   - any other NAME is looked up in the executable's zip.
//
// Zip entries are memory-mapped in place; they must be stored
// uncompressed and aligned.
func (b *Bundle) OpenModel(name string, opts Options) (*Model, error) {
	if b == nil {
		b = &Bundle{}
	}
	if err := b.CheckModel(name); err != nil {
		return nil, err
	}
	switch {
	case name == "":
		models, _ := ggufEntries(b.zip)
		return openEntry(b.zip, b.path, models[0], opts)
	case strings.HasPrefix(name, "/zip/"):
		return openEntry(b.zip, b.path, strings.TrimPrefix(name, "/zip/"), opts)
	}

	st, statErr := os.Stat(name)
	if statErr == nil && !st.IsDir() {
		gg, err := isGGUF(name)
		if err != nil {
			return nil, fmt.Errorf("-m %s: %w", name, err)
		}
		if gg {
			m, err := Open(name, opts)
			if err != nil {
				return nil, err
			}
			m.name = name
			return m, nil
		}
		return openLlamafile(name, opts)
	}
	return openEntry(b.zip, b.path, name, opts) // CheckModel found it there
}

// CheckModel reports, without opening it, whether OpenModel finds the
// model name names (an error saying why not), so that a server can fail
// at once rather than after it has started to listen.
func (b *Bundle) CheckModel(name string) error {
	if b == nil {
		b = &Bundle{}
	}
	switch {
	case name == "":
		if b.zip == nil {
			return errors.New("no model given: use -m MODEL.gguf")
		}
		names, projectors := ggufEntries(b.zip)
		switch len(names) {
		case 0:
			return fmt.Errorf("no model given: use -m MODEL.gguf (the zip in %s)", noModelInZip(b.path, projectors))
		case 1:
			return nil
		default:
			return fmt.Errorf("the zip in %s holds several models (%s): choose one with -m NAME", b.path, strings.Join(names, ", "))
		}
	case strings.HasPrefix(name, "/zip/"):
		if b.zip == nil {
			return fmt.Errorf("-m %s: %s carries no zip archive", name, b.path)
		}
		if _, ok := b.zip.Lookup(strings.TrimPrefix(name, "/zip/")); !ok {
			return fmt.Errorf("-m %s: no such entry in the zip of %s", name, b.path)
		}
		return nil
	}
	st, statErr := os.Stat(name)
	if statErr == nil && !st.IsDir() {
		return nil
	}
	if b.zip != nil {
		if _, ok := b.zip.Lookup(name); ok {
			return nil
		}
	}
	if statErr == nil {
		return fmt.Errorf("-m %s: is a directory, not a model file", name)
	}
	if b.zip != nil {
		return fmt.Errorf("-m %s: no such file on disk or in the zip of %s", name, b.path)
	}
	return fmt.Errorf("-m %s: no such file", name)
}

// isGGUF reports whether the file at name starts with the GGUF magic.
func isGGUF(name string) (bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return false, nil
		}
		return false, err
	}
	return bytes.Equal(magic[:], []byte("GGUF")), nil
}

// openLlamafile opens the only .gguf in the zip appended to the file name.
func openLlamafile(name string, opts Options) (*Model, error) {
	a, err := zipalign.Open(name)
	if errors.Is(err, zipalign.ErrNoArchive) {
		return nil, fmt.Errorf("-m %s: not a GGUF file (no GGUF magic) and no llamafile (no zip archive at its end)", name)
	}
	if err != nil {
		return nil, fmt.Errorf("-m %s: %w", name, err)
	}
	defer a.Close()
	names, projectors := ggufEntries(a)
	switch len(names) {
	case 0:
		return nil, fmt.Errorf("-m %s: not a GGUF file, and its zip archive %s", name, strings.TrimPrefix(noModelInZip("", projectors), " "))
	case 1:
		return openEntry(a, name, names[0], opts)
	default:
		return nil, fmt.Errorf("-m %s: its zip archive holds several models (%s); extract one with unzip", name, strings.Join(names, ", "))
	}
}

// openEntry memory-maps the stored entry entryName of the archive a (in the
// file at path) and opens it as a model.
func openEntry(a *zipalign.Archive, path, entryName string, opts Options) (*Model, error) {
	display := path + ":" + entryName
	e, ok := a.Lookup(entryName)
	if !ok {
		return nil, fmt.Errorf("-m %s: no such entry in the zip of %s", entryName, path)
	}
	if e.Method != zipalign.Store {
		return nil, fmt.Errorf("%s: the entry is compressed (zip method %d); it must be stored uncompressed to be memory-mapped: re-add it with zipalign", display, e.Method)
	}
	align := int64(os.Getpagesize())
	if !e.IsAligned(align) {
		return nil, fmt.Errorf("%s: the entry's data starts at offset %d, not a multiple of the page size %d: re-add it with zipalign", display, e.DataOffset, align)
	}
	if a.File() == nil {
		return nil, fmt.Errorf("%s: archive has no file to map", display)
	}
	gf, err := gguf.OpenFileWith(a.File(), e.DataOffset, int64(e.UncompressedSize), gguf.Options{Read: opts.NoMmap})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", display, err)
	}
	m, err := OpenGGUF(gf, opts)
	if err != nil {
		gf.Close()
		return nil, fmt.Errorf("%w (file %s)", err, display)
	}
	m.name, m.owned = display, true // Close unmaps the entry
	return m, nil
}
