package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/pkg/sandbox"
)

// TestEnterSandboxDegrades: a system that cannot restrict something gives
// one line on the log and the run goes on; --unsecure does not restrict at
// all. (The restriction itself is TestSandboxPolicies'.)
func TestEnterSandboxDegrades(t *testing.T) {
	for _, tt := range []struct {
		name     string
		res      sandbox.Result
		err      error
		unsecure bool
		want     string // the log, "" for none
		called   bool
	}{
		{"restricted", sandbox.Result{Files: true, Syscalls: true}, nil, false, "", true},
		{"no Landlock", sandbox.Result{Syscalls: true, Notice: "sandbox: this kernel has no Landlock (Linux 5.13 or later), so file access is not restricted"}, nil, false,
			"llamafile: sandbox: this kernel has no Landlock (Linux 5.13 or later), so file access is not restricted\n", true},
		{"failure", sandbox.Result{}, errors.New("sandbox: landlock: boom"), false, "llamafile: sandbox: landlock: boom; running without a sandbox\n", true},
		{"--unsecure", sandbox.Result{}, nil, true, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			e := env{restrict: func(sandbox.Policy) (sandbox.Result, error) { called = true; return tt.res, tt.err }}
			var log strings.Builder
			enterSandbox(&options{unsecure: tt.unsecure}, e, &log, sandbox.Policy{NoSockets: true})
			if called != tt.called || log.String() != tt.want {
				t.Errorf("restrict called %v (want %v), log %q, want %q", called, tt.called, log.String(), tt.want)
			}
		})
	}
}

// TestPolicyPledges: the server's policy asks OpenBSD's pledge for the
// "inet" that accept(2) needs (without it the server is killed at its first
// connection), the command line's for no network at all.
func TestPolicyPledges(t *testing.T) {
	o := &options{}
	if p, _ := sandbox.PledgePromises(serverPolicy(o)); !strings.Contains(p, "inet") {
		t.Errorf("server pledge %q: no inet, so accept(2) would be refused", p)
	}
	if p := serverPolicy(o); !p.NoSockets {
		t.Error("server policy: new sockets allowed (Linux's seccomp can forbid them)")
	}
	if p, _ := sandbox.PledgePromises(cliPolicy(o)); strings.Contains(p, "inet") {
		t.Errorf("command line pledge %q allows the network", p)
	}
}
