package ape

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// dosHeaderSize is the size of the DOS header; its last field, e_lfanew at
// 0x3c, holds the offset of the PE signature.
const dosHeaderSize = 64

// scriptEnd is the prelude's last line, reached only when exec fails.
const scriptEnd = "exit 127\n"

// The shell prelude. It must run in every POSIX sh (dash, bash, zsh in sh
// emulation, busybox ash, the BSDs' sh, macOS's sh) with only uname, dd,
// gzip, mkdir, chmod, mv, rm and id, plus any one of the SHA-256 tools
// listed (or cmp when there is none). Variables are single letters to keep
// it small: o, m os and CPU; f, n, u, h, z the engine's offset, stored
// length, size, hash and encoding; s this file; d the cache directory; b the
// cached engine; t its temporary name; H the hash command.
const preludeHead = `[ -n "$ZSH_VERSION" ]&&emulate sh
o=$(uname -s) m=$(uname -m)
[ "$m" = evbarm ]&&m=$(uname -p)
case $o in Linux)o=linux;;Darwin)o=darwin;;FreeBSD)o=freebsd;;OpenBSD)o=openbsd;;NetBSD)o=netbsd;;esac
case $m in x86_64|amd64)m=amd64;;aarch64|arm64)m=arm64;;esac
[ $o$m = darwinamd64 ]&&[ "$(sysctl -n hw.optional.arm64 2>/dev/null)" = 1 ]&&m=arm64
x(){ f=$1 n=$2 u=$3 h=$4 z=$5;}
z=
case $o/$m in
`

const preludeTail = `esac
case $z in gzip|raw);;*)echo "$0: this llamafile has no engine for $o/$m" >&2;exit 1;;esac
s=$0;case $s in /*);;*)s=$PWD/${s#./};;esac
if [ -n "$LLAMAFILE_CACHE" ];then d=$LLAMAFILE_CACHE;elif [ $o = darwin ];then d=$HOME/Library/Caches/llamafile;else d=${XDG_CACHE_HOME:-$HOME/.cache}/llamafile;fi
k(){ (umask 077;mkdir -p "$d") 2>/dev/null&&[ ! -L "$d" ]&&[ -O "$d" ]&&chmod 700 "$d";}
k||{ d=${TMPDIR:-/tmp}/llamafile-$(id -u);k;}||{ echo "$0: no private cache directory (set LLAMAFILE_CACHE)" >&2;exit 1;}
H=;for t in sha256sum 'shasum -a 256' 'sha256 -q' 'openssl dgst -sha256 -r';do command -v ${t%% *} >/dev/null&&{ H=$t;break;};done
e(){ { [ $n -ge 4096 ]&&dd if="$s" bs=4096 skip=$((f/4096)) count=$((n/4096));[ $((n%4096)) -gt 0 ]&&dd if="$s" bs=1 skip=$((f+n/4096*4096)) count=$((n%4096));} 2>/dev/null|if [ $z = gzip ];then gzip -dc;else cat;fi;}
v(){ if [ -n "$H" ];then r=$($H "$1" 2>/dev/null);[ "${r%%[ *]*}" = $h ];else e|cmp -s - "$1";fi;}
b=$d/$o-$m-$h t=$d/.$h.$$
v "$b"||{ rm -f "$t";(umask 077;e>"$t")&&v "$t"&&chmod 700 "$t"&&mv -f "$t" "$b";}||{ rm -f "$t";echo "$0: cannot extract the $o/$m engine to $b" >&2;exit 1;}
LLAMAFILE_SELF=$s LLAMAFILE_ENGINE=$b;export LLAMAFILE_SELF LLAMAFILE_ENGINE
exec "$b" "$@"
` + scriptEnd

// entryText formats e as a row of the prelude's table.
func entryText(e *Entry) string {
	sum := e.SHA256
	if sum == "" {
		sum = "-"
	}
	return fmt.Sprintf("%s/%s)x %d %d %d %s %s;;\n", e.OS, e.Arch, e.Offset, e.Length, e.Size, sum, e.Encoding)
}

// header returns the DOS header and shell prelude for entries, with
// e_lfanew set to peHeader (0 when there is no PE). The result's length is
// where the PE headers may start, rounded up to 8.
func header(entries []Entry, peHeader uint32) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(Magic)
	b.WriteString(Version)
	for b.Len() < 0x3c-1 {
		b.WriteByte(' ')
	}
	b.WriteByte('\n')
	b.Write(binary.LittleEndian.AppendUint32(nil, peHeader))
	if bytes.IndexByte(b.Bytes()[len(Magic)-1:], '\'') >= 0 {
		return nil, fmt.Errorf("e_lfanew %#x contains a quote byte", peHeader)
	}
	b.WriteString("'\n")
	b.WriteString(preludeHead)
	for i := range entries {
		b.WriteString(entryText(&entries[i]))
	}
	b.WriteString(preludeTail)
	for b.Len()%8 != 0 {
		b.WriteByte('\n')
	}
	if strings.Contains(b.String()[dosHeaderSize+2:], "\x00") {
		return nil, fmt.Errorf("shell prelude contains a NUL byte")
	}
	return b.Bytes(), nil
}
