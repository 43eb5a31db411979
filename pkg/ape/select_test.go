package ape

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPreludePlatformSelection runs the prelude with fake uname and sysctl
// commands and checks which engine it extracts (the fake engines then fail
// to execute, which is expected).
func TestPreludePlatformSelection(t *testing.T) {
	needHostShell(t)
	dir := t.TempDir()
	out := packTest(t, dir, "multi", nil, PackOptions{})
	m, err := ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sysname, machine, processor, sysctl string
		want                                string
	}{
		{"Linux", "x86_64", "", "", "linux/amd64"},
		{"Linux", "aarch64", "", "", "linux/arm64"},
		{"Darwin", "x86_64", "", "", "darwin/amd64"},
		{"Darwin", "x86_64", "", "1", "darwin/arm64"}, // a shell under Rosetta
		{"Darwin", "arm64", "", "", "darwin/arm64"},
		{"FreeBSD", "amd64", "", "", "freebsd/amd64"},
		{"FreeBSD", "arm64", "", "", "freebsd/arm64"},
		{"OpenBSD", "amd64", "", "", "openbsd/amd64"},
		{"OpenBSD", "arm64", "", "", "openbsd/arm64"},
		{"NetBSD", "amd64", "", "", "netbsd/amd64"},
		{"NetBSD", "evbarm", "aarch64", "", "netbsd/arm64"},
		{"NetBSD", "evbarm", "earmv7hf", "", ""},
		{"SunOS", "i86pc", "", "", ""},
		{"Linux", "riscv64", "", "", ""},
	} {
		t.Run(tc.sysname+"-"+tc.machine+"-"+tc.processor+tc.sysctl, func(t *testing.T) {
			bin := t.TempDir()
			uname := fmt.Sprintf("#!/bin/sh\ncase $1 in -s) echo %s;; -m) echo %s;; -p) echo %s;; *) exit 1;; esac\n", tc.sysname, tc.machine, tc.processor)
			os.WriteFile(filepath.Join(bin, "uname"), []byte(uname), 0o755)
			if tc.sysctl != "" {
				os.WriteFile(filepath.Join(bin, "sysctl"), []byte("#!/bin/sh\necho "+tc.sysctl+"\n"), 0o755)
			}
			cache := filepath.Join(t.TempDir(), "cache")
			cmd := exec.Command("sh", out)
			cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), EnvCache+"="+cache)
			b, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("a fake engine ran:\n%s", b)
			}
			got, _ := filepath.Glob(filepath.Join(cache, "*"))
			if tc.want == "" {
				if !strings.Contains(string(b), "has no engine for") || len(got) != 0 {
					t.Errorf("unsupported host: cache %v, output %s", got, b)
				}
				return
			}
			goos, goarch, _ := strings.Cut(tc.want, "/")
			e, _ := m.Lookup(goos, goarch)
			if want := filepath.Join(cache, CachedName(e)); len(got) != 1 || got[0] != want {
				t.Errorf("extracted %v, want %s; output %s", got, want, b)
			}
		})
	}
}
