// Package ape reads and writes the multi-platform executable format of a
// llamafile: one file that runs as a native program on Windows and, through
// a POSIX shell prelude, on Linux, macOS, FreeBSD, OpenBSD and NetBSD, on
// amd64 and arm64. The format is documented for users in
// llamafile-format(5); in short:
//
//	offset 0      "MZqFpD='\n" "llamafile-ape-1\n" ... e_lfanew "'\n"
//	              The DOS header of a Windows executable, which is also
//	              the start of a shell script: its binary fields sit inside
//	              a single-quoted shell string.
//	offset 64     The shell prelude: it maps `uname -s`/`uname -m` to a
//	              platform, looks the platform up in its table (lines
//	              "os/arch)x OFFSET LENGTH SIZE SHA256 ENCODING;;"), extracts
//	              that engine into the user's cache directory, verifies its
//	              SHA-256, sets LLAMAFILE_SELF and execs it. The table is
//	              also the manifest the Go tools read.
//	e_lfanew      The PE headers of the windows/amd64 engine (8-aligned,
//	              after the prelude's last line).
//	4096          The windows/amd64 engine's sections, their file offsets
//	              shifted to follow the 4096-byte header area.
//	...           The other engines, each at a multiple of 4096, gzip
//	              compressed (ENCODING "gzip") or stored ("raw").
//	...           The zip archive with the weights and .args, appended by
//	              zipalign, its offsets counting from the start of the file.
//
// The shell extracts an engine with dd (block-aligned part, then the
// remainder byte by byte) and gzip -dc, which every supported system
// provides, and caches it as DIR/OS-ARCH-SHA256 where DIR is CacheDir's
// choice. A cached engine is used only after its hash matches; new ones are
// written to a temporary name and renamed, so that concurrent starts are
// safe.
//
// Pack builds such a file from native engines, Read parses its manifest,
// Prepare extracts the host's engine the way the prelude does (for
// ape-loader), Assimilate turns the file into one platform's plain
// executable while keeping its zip, and SelfPath tells an engine which file
// it was started from.
package ape
