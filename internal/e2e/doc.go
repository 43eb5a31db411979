// Package e2e holds the project's end-to-end test of the single-file
// llamafile, the acceptance test of llamafile-format(5): cmd/llamafile
// built for several platforms and packed into one multi-platform file
// (pkg/ape), the weights and an .args file added by zipalign, and the
// result run the ways a user runs it: as ./s.llamafile from dash, bash, zsh
// and busybox sh, through ape-loader, after assimilate, with the
// linux/arm64 engine under qemu-user, eight copies at once on an empty
// cache, and as w.exe under Wine. Each run must print llama.cpp's greedy
// completion from ../shared, and the weights must be read in place from the
// llamafile, never copied.
//
// The package has no code of its own; run its test with
//
//	go test ./internal/e2e
//
// It needs ../shared (see internal/testutil) and takes some 20 to 50
// seconds, most of it Wine making a fresh prefix; -short skips it. A
// missing tool (a shell, unzip, qemu-aarch64-static, Wine or mingw-w64's
// x86_64-w64-mingw32-gcc) skips its part, or fails it when CI=true, since
// .ci/run installs them all.
package e2e
