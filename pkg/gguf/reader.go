package gguf

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"slices"

	"github.com/llamafile-go/llamafile/pkg/ggml"
	"github.com/llamafile-go/llamafile/pkg/mmap"
)

// Format limits.
const (
	// Magic is the four bytes every GGUF file starts with.
	Magic = "GGUF"
	// Version is the version this package writes.
	Version = 3
	// DefaultAlignment is the data alignment when general.alignment is absent.
	DefaultAlignment = 32
	// MaxDims is the most dimensions a tensor may have (GGML_MAX_DIMS).
	MaxDims = 4
	// KeyAlignment is the metadata key that sets the data alignment.
	KeyAlignment = "general.alignment"

	maxVersion    = 3
	maxArrayDepth = 8       // nesting limit for arrays of arrays
	maxAlignment  = 1 << 30 // largest general.alignment accepted

	// maxPrealloc bounds the capacity reserved from a count read from the
	// file. A count that fits the file may still be corrupt, and the Go
	// values for n items take several times the bytes n items need in
	// the file (a metadata pair needs 13 bytes there and about 100 in
	// memory, with its index entry), so a bit flip in a count of a
	// multi-gigabyte file must not reserve memory for what is not there:
	// beyond this many items, slices grow as items are actually read.
	maxPrealloc = 1 << 12
)

// TensorInfo describes one tensor.
type TensorInfo struct {
	Name   string
	Dims   []uint64  // GGUF order, ne0 (the contiguous dimension) first
	Type   ggml.Type // element type
	Offset uint64    // relative to the start of the data section
	Size   uint64    // bytes of tensor data (computed from Type and Dims)
}

// HasShape reports whether t's dimensions (ne0 first) are dims, trailing
// dimensions of 1 on either side aside: a [4096] vector matches [4096, 1]
// and the reverse, as llama.cpp's loader compares shapes.
func (t *TensorInfo) HasShape(dims ...int) bool {
	have := make([]int, 0, len(t.Dims))
	for _, d := range t.Dims {
		have = append(have, int(d))
	}
	for len(have) > len(dims) && have[len(have)-1] == 1 {
		have = have[:len(have)-1]
	}
	want := dims
	for len(want) > len(have) && want[len(want)-1] == 1 {
		want = want[:len(want)-1]
	}
	return slices.Equal(have, want)
}

// Elements returns the number of elements, the product of Dims (1 for no
// dimensions). It saturates at math.MaxUint64 for TensorInfos not checked by
// this package.
func (t *TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 {
			return math.MaxUint64
		}
		n = lo
	}
	return n
}

// tensorSize checks t's shape against its type and returns its size in
// bytes: ne0 must be a whole number of blocks, and the element count and
// size must fit in an int64.
func tensorSize(typ ggml.Type, dims []uint64) (uint64, error) {
	if !typ.Valid() {
		return 0, fmt.Errorf("unknown ggml type %d", uint32(typ))
	}
	if len(dims) == 0 {
		return 0, errors.New("no dimensions")
	}
	if len(dims) > MaxDims {
		return 0, fmt.Errorf("%d dimensions, more than %d", len(dims), MaxDims)
	}
	// llama.cpp reads each extent as an int64 and rejects a negative one,
	// whatever the others are: [2^63, 0] has no elements but is refused.
	// A zero extent is accepted and gives an empty tensor (size 0).
	for j, d := range dims {
		if d > math.MaxInt64 {
			return 0, fmt.Errorf("dimension %d: %d elements, more than %d", j, d, int64(math.MaxInt64))
		}
	}
	n := uint64(1)
	for _, d := range dims {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("shape %v: element count overflows", dims)
		}
		n = lo
	}
	bs := uint64(typ.BlockSize())
	if dims[0]%bs != 0 {
		return 0, fmt.Errorf("type %s: ne0 %d is not a multiple of the block size %d", typ, dims[0], bs)
	}
	hi, size := bits.Mul64(n/bs, uint64(typ.BlockBytes()))
	if hi != 0 || size > math.MaxInt64 {
		return 0, fmt.Errorf("shape %v: byte size overflows", dims)
	}
	return size, nil
}

// File is a parsed GGUF file. Its metadata and tensor infos are plain Go
// values; tensor data stays in the (mapped) file bytes.
type File struct {
	Version   uint32
	Alignment uint64 // general.alignment or 32
	// DataOffset is the offset of the data section from the start of the
	// GGUF bytes: the end of the tensor infos rounded up to the
	// alignment, as the GGUF specification and gguf-py's GGUFReader
	// compute it, also for a file without tensors (there llama.cpp's
	// gguf_get_data_offset gives the unaligned end, and a writer may have
	// left the padding out, so that DataOffset lies up to Alignment-1
	// bytes past the end of such a file).
	DataOffset int64
	KV         []KV         // metadata in file order
	Tensors    []TensorInfo // in file order

	data    []byte
	mapping *mmap.Mapping
	kvIndex map[string]int
	tIndex  map[string]int
}

// Options say how Open and OpenFile bring a file's bytes into memory.
type Options struct {
	// Read reads the bytes into memory instead of mapping them, as
	// llama.cpp's --no-mmap does: slower to open and not shared with
	// other processes, but independent of the file afterwards.
	Read bool
}

// Open maps the file at path and parses it. Close releases the mapping.
func Open(path string) (*File, error) { return OpenWith(path, Options{}) }

// OpenWith is Open with options.
func OpenWith(path string, opts Options) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	file, err := openMapped(f, 0, fi.Size(), opts)
	if err != nil {
		return nil, fmt.Errorf("gguf: %s: %w", path, err)
	}
	return file, nil
}

// OpenFile maps size bytes of f starting at offset (for example a GGUF
// stored in a zip entry inside an executable) and parses them. Offsets in
// the File are relative to the start of that range. The File does not own
// f; f may be closed once OpenFile returns.
func OpenFile(f *os.File, offset, size int64) (*File, error) {
	return OpenFileWith(f, offset, size, Options{})
}

// OpenFileWith is OpenFile with options.
func OpenFileWith(f *os.File, offset, size int64, opts Options) (*File, error) {
	if f == nil {
		return nil, errors.New("gguf: OpenFile: nil file")
	}
	file, err := openMapped(f, offset, size, opts)
	if err != nil {
		return nil, fmt.Errorf("gguf: %s: %w", f.Name(), err)
	}
	return file, nil
}

func openMapped(f *os.File, offset, size int64, opts Options) (*File, error) {
	bring := mmap.Map
	if opts.Read {
		bring = mmap.Read
	}
	m, err := bring(f, offset, size)
	if err != nil {
		return nil, err
	}
	file, err := parse(m.Bytes())
	if err != nil {
		m.Close()
		return nil, err
	}
	file.mapping = m
	return file, nil
}

// Release tells the system that b, the data of tensors (TensorData), is
// not needed for now: its whole pages stop counting as resident memory,
// and are read from the file again if b is used later (after a model
// copied the weights into another layout). A file read into memory
// (Options.Read), locked, or made by Parse releases nothing.
func (f *File) Release(b []byte) { f.mapping.Release(b) }

// Lock locks the file's bytes in memory, so that the system never pages
// them out (llama.cpp's --mlock). It fails when the system refuses, for
// example beyond the locked-memory limit of an unprivileged process; the
// File stays usable then. Files made by Parse cannot be locked.
func (f *File) Lock() error {
	if f.mapping == nil {
		return errors.New("gguf: Lock: the file is not mapped or read by Open")
	}
	return f.mapping.Lock()
}

// fingerprintSample is how many bytes of the tensor data, at its start
// and at its end, Fingerprint reads.
const fingerprintSample = 64 << 10

// Fingerprint identifies the file's contents: a SHA-256 of its metadata
// and tensor infos, the size of its data, and the first and last 64 KiB
// of the tensor data. It reads a small part of the file only, so it is
// cheap on a large model, and it tells apart any two files that differ
// in metadata, tensor layout or those samples (a state saved for one
// model is not used with another).
func (f *File) Fingerprint() [32]byte {
	h := sha256.New()
	n := min(int64(len(f.data)), max(f.DataOffset, 0))
	h.Write(f.data[:n])
	data := f.data[n:]
	var size [8]byte
	binary.LittleEndian.PutUint64(size[:], uint64(len(data)))
	h.Write(size[:])
	if len(data) <= 2*fingerprintSample {
		h.Write(data)
	} else {
		h.Write(data[:fingerprintSample])
		h.Write(data[len(data)-fingerprintSample:])
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// Parse parses GGUF bytes held in memory. The File refers to data for
// tensor contents; Close is a no-op.
func Parse(data []byte) (*File, error) {
	f, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	return f, nil
}

// Close releases the file's mapping, if any. Tensor data slices must not be
// used afterwards; metadata stays valid.
func (f *File) Close() error {
	m := f.mapping
	f.mapping = nil
	f.data = nil
	if m != nil {
		return m.Close()
	}
	return nil
}

// Tensor returns the tensor named name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.tIndex[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// TensorData returns t's bytes, a slice of the file's data (not a copy; do
// not modify it). It returns nil when the file is closed or t lies outside
// the data section.
func (f *File) TensorData(t *TensorInfo) []byte {
	if t == nil || f.data == nil {
		return nil
	}
	start := uint64(f.DataOffset) + t.Offset
	if start < t.Offset || start > uint64(len(f.data)) || t.Size > uint64(len(f.data))-start {
		return nil
	}
	end := start + t.Size
	return f.data[start:end:end]
}

// decoder reads little-endian GGUF fields with bounds checks.
type decoder struct {
	b      []byte
	off    int
	v1     bool // 32-bit lengths and counts
	lenLen int  // bytes of a length field: 4 (v1) or 8
}

func (d *decoder) remaining() uint64 { return uint64(len(d.b) - d.off) }

func (d *decoder) take(n int, what string) ([]byte, error) {
	if n < 0 || uint64(n) > d.remaining() {
		return nil, fmt.Errorf("unexpected end of file reading %s at offset %d (need %d bytes, %d left)", what, d.off, n, d.remaining())
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p, nil
}

func (d *decoder) u32(what string) (uint32, error) {
	p, err := d.take(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(p), nil
}

func (d *decoder) u64(what string) (uint64, error) {
	p, err := d.take(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(p), nil
}

// count reads a length or count field: 32 bits in v1, 64 bits later.
func (d *decoder) count(what string) (uint64, error) {
	if d.v1 {
		n, err := d.u32(what)
		return uint64(n), err
	}
	return d.u64(what)
}

// checkCount verifies that n items of at least minSize bytes each fit in
// the rest of the file.
func (d *decoder) checkCount(n uint64, minSize int, what string) error {
	if n > d.remaining()/uint64(minSize) {
		return fmt.Errorf("%s %d exceeds what the remaining %d bytes of the file can hold", what, n, d.remaining())
	}
	return nil
}

func (d *decoder) str(what string) (string, error) {
	n, err := d.count(what + " length")
	if err != nil {
		return "", err
	}
	if n > d.remaining() {
		return "", fmt.Errorf("%s length %d at offset %d exceeds the remaining %d bytes", what, n, d.off, d.remaining())
	}
	p, _ := d.take(int(n), what)
	return string(p), nil
}

func parse(data []byte) (*File, error) {
	d := &decoder{b: data, lenLen: 8}
	magic, err := d.take(4, "magic")
	if err != nil {
		return nil, errors.New("not a GGUF file: too short")
	}
	if string(magic) != Magic {
		return nil, fmt.Errorf("not a GGUF file: magic %q, want %q", magic, Magic)
	}
	version, err := d.u32("version")
	if err != nil {
		return nil, err
	}
	switch {
	case version == 0:
		return nil, errors.New("invalid version 0")
	case version&0xFFFF == 0 && bits.ReverseBytes32(version) <= 0xFFFF:
		return nil, fmt.Errorf("big-endian GGUF files are not supported (version field reads %#x, byte-swapped %d)", version, bits.ReverseBytes32(version))
	case version > maxVersion:
		return nil, fmt.Errorf("unsupported version %d (this reader handles 1 to %d)", version, maxVersion)
	}
	f := &File{Version: version, Alignment: DefaultAlignment, data: data}
	if version == 1 {
		d.v1, d.lenLen = true, 4
	}
	nTensors, err := d.count("tensor count")
	if err != nil {
		return nil, err
	}
	nKV, err := d.count("metadata count")
	if err != nil {
		return nil, err
	}
	// A key-value pair needs at least a key length, a type and one byte;
	// a tensor info a name length, n_dims, type and offset.
	const minTensorInfo = 4 + 4 + 8
	if err := d.checkCount(nKV, d.lenLen+4+1, "metadata count"); err != nil {
		return nil, err
	}
	if err := d.checkCount(nTensors, d.lenLen+minTensorInfo, "tensor count"); err != nil {
		return nil, err
	}

	f.KV = make([]KV, 0, min(nKV, maxPrealloc))
	f.kvIndex = make(map[string]int, min(nKV, maxPrealloc))
	for i := uint64(0); i < nKV; i++ {
		key, err := d.str(fmt.Sprintf("key of metadata pair %d", i))
		if err != nil {
			return nil, err
		}
		if _, dup := f.kvIndex[key]; dup {
			return nil, fmt.Errorf("key %q: duplicate key", key)
		}
		t, err := d.u32("value type")
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
		v, err := d.value(ValueType(t), 0)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
		f.kvIndex[key] = len(f.KV)
		f.KV = append(f.KV, KV{Key: key, Value: v})
	}

	if v, ok := f.Get(KeyAlignment); ok {
		a, err := alignmentOf(v)
		if err != nil {
			return nil, err
		}
		f.Alignment = a
	}

	if err := d.checkCount(nTensors, d.lenLen+minTensorInfo, "tensor count"); err != nil {
		return nil, err
	}
	f.Tensors = make([]TensorInfo, 0, min(nTensors, maxPrealloc))
	f.tIndex = make(map[string]int, min(nTensors, maxPrealloc))
	for i := uint64(0); i < nTensors; i++ {
		t, err := d.tensorInfo(i)
		if err != nil {
			return nil, err
		}
		if _, dup := f.tIndex[t.Name]; dup {
			return nil, fmt.Errorf("tensor %q: duplicate tensor name", t.Name)
		}
		f.tIndex[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}

	dataOff := alignUp(uint64(d.off), f.Alignment)
	f.DataOffset = int64(dataOff)
	if nTensors == 0 {
		// Nothing is read from the data section, which may be absent
		// (llama.cpp seeks to it only when there are tensors).
		return f, nil
	}
	if dataOff > uint64(len(data)) {
		return nil, fmt.Errorf("data section at offset %d starts past the end of the file (%d bytes)", dataOff, len(data))
	}
	if err := checkLayout(f.Tensors, f.Alignment, uint64(len(data))-dataOff); err != nil {
		return nil, err
	}
	return f, nil
}

// checkLayout checks the tensors' data offsets as llama.cpp's gguf_init
// does: the data of the tensors lies in the order of their infos, back to
// back, each one starting where the previous one ends rounded up to the
// alignment, the first at 0. So offsets out of order, overlapping or with
// gaps between them are all rejected, as llama.cpp rejects them. Each
// tensor's data must also lie within the dataLen bytes of the data
// section (llama.cpp's model loader checks that against the file size;
// the last tensor's padding may be missing).
func checkLayout(tensors []TensorInfo, alignment, dataLen uint64) error {
	want := uint64(0)
	for i := range tensors {
		t := &tensors[i]
		if t.Offset != want {
			if i == 0 {
				return fmt.Errorf("tensor %q: data offset %d, want 0 (the first tensor's data starts the data section)", t.Name, t.Offset)
			}
			prev := &tensors[i-1]
			return fmt.Errorf("tensor %q: data offset %d, want %d (where tensor %q, %d bytes at %d, ends, aligned to %d): tensor data must be stored in the order of the tensor infos, without overlaps or gaps",
				t.Name, t.Offset, want, prev.Name, prev.Size, prev.Offset, alignment)
		}
		if t.Offset > dataLen || t.Size > dataLen-t.Offset {
			return fmt.Errorf("tensor %q: data [%d, %d+%d) lies outside the data section (%d bytes)", t.Name, t.Offset, t.Offset, t.Size, dataLen)
		}
		// No overflow: t.Offset+t.Size <= dataLen < 2^63, and the
		// padding is below the alignment (at most 2^30).
		want = alignUp(t.Offset+t.Size, alignment)
	}
	return nil
}

// alignUp rounds off up to a multiple of a (a power of two, off small).
func alignUp(off, a uint64) uint64 { return (off + a - 1) &^ (a - 1) }

func alignmentOf(v Value) (uint64, error) {
	if !v.Type.IsInteger() {
		return 0, fmt.Errorf("key %q: have %s, want uint32", KeyAlignment, v.TypeName())
	}
	a, ok := asUint(v)
	if !ok || a == 0 || a&(a-1) != 0 || a > maxAlignment {
		return 0, fmt.Errorf("key %q: alignment %v is not a power of two between 1 and %d", KeyAlignment, v.V, maxAlignment)
	}
	return a, nil
}

func (d *decoder) tensorInfo(i uint64) (TensorInfo, error) {
	var t TensorInfo
	name, err := d.str(fmt.Sprintf("name of tensor %d", i))
	if err != nil {
		return t, err
	}
	t.Name = name
	wrap := func(err error) error { return fmt.Errorf("tensor %q: %w", name, err) }
	nDims, err := d.u32("dimension count")
	if err != nil {
		return t, wrap(err)
	}
	if nDims == 0 {
		return t, wrap(errors.New("dimension count is 0"))
	}
	if nDims > MaxDims {
		return t, wrap(fmt.Errorf("dimension count %d exceeds %d", nDims, MaxDims))
	}
	t.Dims = make([]uint64, nDims)
	for j := range t.Dims {
		if t.Dims[j], err = d.count("dimension"); err != nil {
			return t, wrap(err)
		}
	}
	typ, err := d.u32("tensor type")
	if err != nil {
		return t, wrap(err)
	}
	t.Type = ggml.Type(typ)
	if !t.Type.Valid() {
		return t, wrap(fmt.Errorf("unknown ggml type %d", typ))
	}
	if t.Offset, err = d.u64("tensor data offset"); err != nil {
		return t, wrap(err)
	}
	if t.Size, err = tensorSize(t.Type, t.Dims); err != nil {
		return t, wrap(err)
	}
	return t, nil
}

// value reads a value of type t.
func (d *decoder) value(t ValueType, depth int) (Value, error) {
	v := Value{Type: t}
	switch t {
	case TypeString:
		s, err := d.str("string")
		v.V = s
		return v, err
	case TypeArray:
		return d.array(depth)
	}
	size := t.fixedSize()
	if size == 0 {
		return v, fmt.Errorf("unknown value type %d", uint32(t))
	}
	p, err := d.take(size, t.String()+" value")
	if err != nil {
		return v, err
	}
	v.V = decodeScalar(t, p)
	return v, nil
}

func decodeScalar(t ValueType, p []byte) any {
	le := binary.LittleEndian
	switch t {
	case TypeUint8:
		return p[0]
	case TypeInt8:
		return int8(p[0])
	case TypeUint16:
		return le.Uint16(p)
	case TypeInt16:
		return int16(le.Uint16(p))
	case TypeUint32:
		return le.Uint32(p)
	case TypeInt32:
		return int32(le.Uint32(p))
	case TypeFloat32:
		return math.Float32frombits(le.Uint32(p))
	case TypeBool:
		return p[0] != 0
	case TypeUint64:
		return le.Uint64(p)
	case TypeInt64:
		return int64(le.Uint64(p))
	case TypeFloat64:
		return math.Float64frombits(le.Uint64(p))
	}
	return nil
}

func decodeSlice[T any](p []byte, size int, conv func([]byte) T) []T {
	out := make([]T, len(p)/size)
	for i := range out {
		out[i] = conv(p[i*size:])
	}
	return out
}

func (d *decoder) array(depth int) (Value, error) {
	et, err := d.u32("array element type")
	if err != nil {
		return Value{}, err
	}
	elem := ValueType(et)
	v := Value{Type: TypeArray, ElemType: elem}
	n, err := d.count("array length")
	if err != nil {
		return v, err
	}
	le := binary.LittleEndian
	switch elem {
	case TypeString:
		if err := d.checkCount(n, d.lenLen, "array[string] length"); err != nil {
			return v, err
		}
		ss := make([]string, 0, min(n, maxPrealloc))
		for i := uint64(0); i < n; i++ {
			s, err := d.str(fmt.Sprintf("string %d of array", i))
			if err != nil {
				return v, err
			}
			ss = append(ss, s)
		}
		v.V = ss
		return v, nil
	case TypeArray:
		if depth+1 >= maxArrayDepth {
			return v, fmt.Errorf("arrays nested deeper than %d", maxArrayDepth)
		}
		if err := d.checkCount(n, 4+d.lenLen, "array[array] length"); err != nil {
			return v, err
		}
		vs := make([]Value, 0, min(n, maxPrealloc))
		for i := uint64(0); i < n; i++ {
			e, err := d.array(depth + 1)
			if err != nil {
				return v, fmt.Errorf("element %d: %w", i, err)
			}
			vs = append(vs, e)
		}
		v.V = vs
		return v, nil
	}
	size := elem.fixedSize()
	if size == 0 {
		return v, fmt.Errorf("unknown array element type %d", et)
	}
	if err := d.checkCount(n, size, "array["+elem.String()+"] length"); err != nil {
		return v, err
	}
	p, _ := d.take(int(n)*size, "array")
	switch elem {
	case TypeUint8:
		v.V = append([]uint8{}, p...)
	case TypeInt8:
		v.V = decodeSlice(p, 1, func(b []byte) int8 { return int8(b[0]) })
	case TypeUint16:
		v.V = decodeSlice(p, 2, le.Uint16)
	case TypeInt16:
		v.V = decodeSlice(p, 2, func(b []byte) int16 { return int16(le.Uint16(b)) })
	case TypeUint32:
		v.V = decodeSlice(p, 4, le.Uint32)
	case TypeInt32:
		v.V = decodeSlice(p, 4, func(b []byte) int32 { return int32(le.Uint32(b)) })
	case TypeFloat32:
		v.V = decodeSlice(p, 4, func(b []byte) float32 { return math.Float32frombits(le.Uint32(b)) })
	case TypeBool:
		v.V = decodeSlice(p, 1, func(b []byte) bool { return b[0] != 0 })
	case TypeUint64:
		v.V = decodeSlice(p, 8, le.Uint64)
	case TypeInt64:
		v.V = decodeSlice(p, 8, func(b []byte) int64 { return int64(le.Uint64(b)) })
	case TypeFloat64:
		v.V = decodeSlice(p, 8, func(b []byte) float64 { return math.Float64frombits(le.Uint64(b)) })
	}
	return v, nil
}
