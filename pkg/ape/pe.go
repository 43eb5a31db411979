package ape

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// PE format offsets (Microsoft PE/COFF specification).
const (
	peSigSize     = 4
	coffSize      = 20
	sectionSize   = 40
	debugDirEntry = 28

	machineAMD64 = 0x8664
	machineARM64 = 0xaa64

	dirSecurity = 4
	dirDebug    = 6
)

// peSection is the part of a section header this package uses.
type peSection struct {
	hdr        int // offset of the section header in the file
	va, rawLen uint32
	raw        uint32
}

// relocatedPE is a Windows executable rearranged so that its headers can
// sit at any offset below HeaderSize and its sections start at HeaderSize.
type relocatedPE struct {
	headers []byte // from the PE signature to the end of the section table
	body    []byte // the file from its first section on, to place at HeaderSize
}

// relocatePE parses pe, a Windows executable for machine, and returns its
// headers and body with every file offset moved for the body to start at
// HeaderSize. The headers keep their meaning wherever they are placed below
// HeaderSize, as long as e_lfanew points at them.
func relocatePE(pe []byte, machine uint16) (*relocatedPE, error) {
	if len(pe) < dosHeaderSize || pe[0] != 'M' || pe[1] != 'Z' {
		return nil, errors.New("not a PE file: no MZ signature")
	}
	le := binary.LittleEndian
	lfanew := int(le.Uint32(pe[0x3c:]))
	if lfanew < dosHeaderSize || lfanew > len(pe)-peSigSize-coffSize {
		return nil, fmt.Errorf("PE header offset %#x out of range", lfanew)
	}
	if string(pe[lfanew:lfanew+4]) != "PE\x00\x00" {
		return nil, errors.New("no PE signature")
	}
	coff := lfanew + peSigSize
	if m := le.Uint16(pe[coff:]); m != machine {
		return nil, fmt.Errorf("PE machine %#x, want %#x", m, machine)
	}
	nsec := int(le.Uint16(pe[coff+2:]))
	optSize := int(le.Uint16(pe[coff+16:]))
	opt := coff + coffSize
	secTable := opt + optSize
	end := secTable + nsec*sectionSize
	if nsec == 0 || end > len(pe) {
		return nil, fmt.Errorf("PE section table (%d sections) out of range", nsec)
	}
	var ddOff, ndd int
	switch magic := le.Uint16(pe[opt:]); {
	case magic == 0x20b && optSize >= 112: // PE32+
		ndd, ddOff = int(le.Uint32(pe[opt+108:])), opt+112
	case magic == 0x10b && optSize >= 96: // PE32
		ndd, ddOff = int(le.Uint32(pe[opt+92:])), opt+96
	default:
		return nil, fmt.Errorf("unsupported PE optional header (magic %#x, %d bytes)", magic, optSize)
	}
	if ndd > 16 || ddOff+8*ndd > secTable {
		return nil, fmt.Errorf("PE data directories (%d) out of range", ndd)
	}
	fileAlign := le.Uint32(pe[opt+36:])
	if fileAlign == 0 || fileAlign&(fileAlign-1) != 0 || fileAlign > HeaderSize {
		return nil, fmt.Errorf("PE file alignment %#x unsupported", fileAlign)
	}

	secs := make([]peSection, nsec)
	firstRaw, firstVA := uint32(len(pe)), ^uint32(0)
	for i := range secs {
		h := secTable + i*sectionSize
		s := peSection{hdr: h, va: le.Uint32(pe[h+12:]), rawLen: le.Uint32(pe[h+16:]), raw: le.Uint32(pe[h+20:])}
		if s.rawLen > 0 {
			if uint64(s.raw)+uint64(s.rawLen) > uint64(len(pe)) {
				return nil, fmt.Errorf("PE section %d data out of range", i)
			}
			firstRaw = min(firstRaw, s.raw)
		}
		firstVA = min(firstVA, s.va)
		secs[i] = s
	}
	if firstVA < HeaderSize {
		return nil, fmt.Errorf("PE first section at RVA %#x leaves no room for a %d-byte header", firstVA, HeaderSize)
	}
	if int(firstRaw) < end || firstRaw > HeaderSize || (HeaderSize-firstRaw)%fileAlign != 0 {
		return nil, fmt.Errorf("PE first section at file offset %#x cannot move to %#x", firstRaw, HeaderSize)
	}
	delta := HeaderSize - firstRaw
	if ndd > dirSecurity && le.Uint32(pe[ddOff+8*dirSecurity+4:]) != 0 {
		return nil, errors.New("signed PE files are not supported (sign the packed file instead)")
	}

	headers := append([]byte(nil), pe[lfanew:end]...)
	body := pe[firstRaw:]
	at := func(off int) []byte { return headers[off-lfanew:] }
	shift := func(b []byte) {
		if v := le.Uint32(b); v != 0 {
			le.PutUint32(b, v+delta)
		}
	}
	shift(at(coff + 8))                  // PointerToSymbolTable
	le.PutUint32(at(opt+60), HeaderSize) // SizeOfHeaders
	le.PutUint32(at(opt+64), 0)          // CheckSum: no longer valid once a zip is appended
	for _, s := range secs {
		shift(at(s.hdr + 20)) // PointerToRawData
		shift(at(s.hdr + 24)) // PointerToRelocations
		shift(at(s.hdr + 28)) // PointerToLinenumbers
	}

	// Debug directory entries hold file offsets of their data.
	if ndd > dirDebug {
		rva, size := le.Uint32(pe[ddOff+8*dirDebug:]), le.Uint32(pe[ddOff+8*dirDebug+4:])
		if size > 0 {
			off := -1
			for _, s := range secs {
				if rva >= s.va && uint64(rva)+uint64(size) <= uint64(s.va)+uint64(s.rawLen) {
					off = int(s.raw + rva - s.va)
				}
			}
			if off < int(firstRaw) {
				return nil, fmt.Errorf("PE debug directory at RVA %#x not in a section", rva)
			}
			body = append([]byte(nil), body...)
			for i := 0; i+debugDirEntry <= int(size); i += debugDirEntry {
				shift(body[off-int(firstRaw)+i+24:])
			}
		}
	}
	return &relocatedPE{headers: headers, body: body}, nil
}
