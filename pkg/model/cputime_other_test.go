//go:build !unix

package model

import "time"

// processCPU reports no figure where getrusage is missing.
func processCPU() (time.Duration, bool) { return 0, false }
