// Package version holds the version string every llamafile command reports
// with --version. Release builds set it with
// -ldflags "-X github.com/llamafile-go/llamafile/pkg/version.Version=...".
package version

// Version is the release this build was made from.
var Version = "0.1.0-dev"
