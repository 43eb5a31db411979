#!/usr/bin/env bash
# Run the tests of the packages that have arm64 assembly on an emulated arm64
# CPU: cross-compile each package's test binary (GOARCH=arm64) and run it
# under qemu-user with two CPU models, so every kernel path runs:
#   cortex-a53  ARMv8.0 NEON only (no dot-product or FP16 extensions)
#   max         every feature qemu emulates (SDOT/UDOT, FP16, ...)
# The binaries run in their package directories, so tests that read the
# shared test data find ../shared (or $LLAMAFILE_SHARED) as `go test` would.
#
# A package may name its own CPU models after a colon (pkg/ggml has no
# assembly: one model is enough).
#
# qemu-user on an x86 host lets a store-release pass a later load-acquire
# (ARMv8 orders them): a parker that published itself with a plain atomic
# store missed wake-ups, and CI's pkg/model run hung three times at a
# barrier. Publishing is now a swap; TestBarrierWakeups hangs without it.
#
# Without qemu-aarch64-static the tests are skipped with a message, except
# when CI=true, where that is an error. Environment: GO (go command), QEMU
# (emulator), ARM64_CPUS (CPU models), ARM64_PKGS (packages), ARM64_TESTFLAGS
# (extra test flags, e.g. "-test.v -test.run NEON").
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
QEMU=${QEMU:-qemu-aarch64-static}
read -r -a cpus <<<"${ARM64_CPUS:-cortex-a53 max}"
read -r -a pkgs <<<"${ARM64_PKGS:-./pkg/ggml/cpu ./pkg/model ./pkg/ggml:max}"

if ! command -v "$QEMU" >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then
		echo "test-arm64: $QEMU not found (install Debian's qemu-user-static)" >&2
		exit 1
	fi
	echo "test-arm64: $QEMU not found; skipping the arm64 tests (install Debian's qemu-user-static to run them)"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$(pwd)
status=0
for spec in "${pkgs[@]}"; do
	pkg=${spec%%:*}
	pcpus=("${cpus[@]}")
	[ "$spec" = "$pkg" ] || IFS=, read -r -a pcpus <<<"${spec#*:}"
	bin="$tmp/$(echo "${pkg#./}" | tr / _).test"
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 "$GO" test -c -o "$bin" "$pkg"
	[ -e "$bin" ] || continue # no test files
	for cpu in "${pcpus[@]}"; do
		start=$SECONDS
		if (cd "$root/$pkg" && "$QEMU" -cpu "$cpu" "$bin" -test.timeout 25m ${ARM64_TESTFLAGS:-} >"$tmp/out" 2>&1); then
			[ -z "${ARM64_TESTFLAGS:-}" ] || cat "$tmp/out"
			echo "ok   $pkg	linux/arm64 qemu -cpu $cpu	$((SECONDS - start))s"
		else
			cat "$tmp/out"
			echo "FAIL $pkg	linux/arm64 qemu -cpu $cpu	$((SECONDS - start))s"
			status=1
		fi
	done
done
exit $status
