// Package zipalign writes and reads the zip archive a llamafile carries at
// its end.
//
// A llamafile is one executable followed by a zip archive holding the model
// weights and a default command line (.args). The weights are stored
// uncompressed with their data aligned to a page-size multiple, counted from
// the start of the file, so that the running program can memory-map them in
// place.
//
// Append adds files to such an archive (or starts one after any bytes, such
// as an executable), replacing entries of the same name, atomically. Every
// record it writes has its zip64 form, so entries may exceed 4 GiB, and with
// the default options the output depends only on the inputs.
//
// Open finds the archive at the end of a file, even when its offsets count
// from the start of the archive rather than of the file, and reports each
// entry's absolute data offset, for memory-mapping, and its compression
// method; ReadAll reads small entries, deflated or stored. A llamafile
// engine opens its own file this way: the path ape.SelfPath returns, which
// is the multi-platform file it was extracted from rather than the
// extracted executable (os.Executable).
package zipalign
