package sandbox

import (
	"strings"
	"testing"
)

// TestPledgePromises checks the promises OpenBSD is asked for, on every
// system: a command line gets no network, a server the "inet" its
// accept(2) needs (or OpenBSD kills it at its first connection), with a
// notice that new sockets are then allowed too.
func TestPledgePromises(t *testing.T) {
	for _, tc := range []struct {
		name     string
		p        Policy
		promises string
		notice   bool
	}{
		{"command line", Policy{NoSockets: true}, "stdio rpath tty", false},
		{"command line, prompt cache", Policy{NoSockets: true, Write: []string{"/tmp"}, Read: []string{"/x"}}, "stdio rpath tty wpath cpath", false},
		{"server", Policy{NoSockets: true, Accept: true, Read: []string{"/srv"}}, "stdio rpath tty inet", true},
		{"sockets allowed", Policy{}, "stdio rpath tty inet", false},
		{"sockets allowed, accepting", Policy{Accept: true}, "stdio rpath tty inet", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			promises, notice := PledgePromises(tc.p)
			if promises != tc.promises {
				t.Errorf("promises %q, want %q", promises, tc.promises)
			}
			if (notice != "") != tc.notice || notice != "" && !strings.HasPrefix(notice, "sandbox: ") {
				t.Errorf("notice %q, want one: %v", notice, tc.notice)
			}
			for _, w := range strings.Fields(promises) {
				switch w {
				case "stdio", "rpath", "wpath", "cpath", "tty", "inet":
				default:
					t.Errorf("promise %q is not one pledge(2) knows here", w)
				}
			}
		})
	}
}
