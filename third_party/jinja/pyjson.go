package jinja

// llamafile's addition (see README.llamafile.md): tojson(indent=N) as
// Python's json.dumps writes it, keys in insertion order and no HTML
// escaping, instead of encoding/json's MarshalIndent (which sorted the
// keys of the Go maps it went through, and escaped <, > and &).

import (
	"strings"
)

// encodeIndentedJSON writes v with each element on its own line, indented
// by indent per level; itemSeparator ends every element but the last
// (Python's "," when indent is given), keySeparator follows keys.
func encodeIndentedJSON(sb *strings.Builder, v Value, indent string, level int, itemSeparator, keySeparator string) error {
	newline := func(l int) {
		sb.WriteByte('\n')
		for range l {
			sb.WriteString(indent)
		}
	}
	switch v.kind {
	case KindList:
		items := v.AsList().Items
		if len(items) == 0 {
			sb.WriteString("[]")
			return nil
		}
		sb.WriteByte('[')
		for i, item := range items {
			if i > 0 {
				sb.WriteString(itemSeparator)
			}
			newline(level + 1)
			if err := encodeIndentedJSON(sb, item, indent, level+1, itemSeparator, keySeparator); err != nil {
				return err
			}
		}
		newline(level)
		sb.WriteByte(']')
		return nil
	case KindDict:
		d := v.AsDict()
		if len(d.Keys) == 0 {
			sb.WriteString("{}")
			return nil
		}
		sb.WriteByte('{')
		for i, key := range d.Keys {
			if i > 0 {
				sb.WriteString(itemSeparator)
			}
			newline(level + 1)
			if err := encodeJSONString(sb, key); err != nil {
				return err
			}
			sb.WriteString(keySeparator)
			if err := encodeIndentedJSON(sb, d.Data[key], indent, level+1, itemSeparator, keySeparator); err != nil {
				return err
			}
		}
		newline(level)
		sb.WriteByte('}')
		return nil
	}
	return encodeValueJSON(sb, v, itemSeparator, keySeparator)
}
