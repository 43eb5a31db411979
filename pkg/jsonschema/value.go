package jsonschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// kind is the JSON type of a value.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// value is a decoded JSON value that keeps the order of object members:
// the order of "properties" is the order the grammar writes them in, as
// llama.cpp (which uses nlohmann's ordered_json) does.
type value struct {
	kind    kind
	boolean bool
	text    string // a string's contents, or a number as written
	items   []*value
	members []member
}

type member struct {
	key string
	val *value
}

// get returns the member named key, or nil.
func (v *value) get(key string) *value {
	if v == nil || v.kind != kindObject {
		return nil
	}
	for _, m := range v.members {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

func (v *value) has(key string) bool { return v.get(key) != nil }

// with returns a copy of the object v with key set to val.
func (v *value) with(key string, val *value) *value {
	c := *v
	c.members = make([]member, 0, len(v.members))
	for _, m := range v.members {
		if m.key != key {
			c.members = append(c.members, m)
		}
	}
	c.members = append(c.members, member{key, val})
	return &c
}

func (v *value) isString(s string) bool { return v != nil && v.kind == kindString && v.text == s }

// parseJSON decodes one JSON value, keeping member order.
func parseJSON(data []byte) (*value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the schema")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (*value, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	switch t := tok.(type) {
	case nil:
		return &value{kind: kindNull}, nil
	case bool:
		return &value{kind: kindBool, boolean: t}, nil
	case json.Number:
		return &value{kind: kindNumber, text: string(t)}, nil
	case string:
		return &value{kind: kindString, text: t}, nil
	case json.Delim:
		if t == '[' {
			v := &value{kind: kindArray}
			for dec.More() {
				item, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				v.items = append(v.items, item)
			}
			return v, closing(dec)
		}
		v := &value{kind: kindObject}
		for dec.More() {
			keyTok, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			item, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			key := keyTok.(string)
			// A repeated key replaces the earlier member, as in most decoders.
			replaced := false
			for i := range v.members {
				if v.members[i].key == key {
					v.members[i].val = item
					replaced = true
				}
			}
			if !replaced {
				v.members = append(v.members, member{key, item})
			}
		}
		return v, closing(dec)
	}
	return nil, fmt.Errorf("invalid JSON: unexpected %v", tok)
}

// closing reads the ] or } that ends an array or object.
func closing(dec *json.Decoder) error {
	if _, err := dec.Token(); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return nil
}

// dump writes v as compact JSON, non-ASCII characters unescaped, as
// nlohmann's dump() does: the text a const or enum value must produce.
func (v *value) dump(b *strings.Builder) {
	switch v.kind {
	case kindNull:
		b.WriteString("null")
	case kindBool:
		b.WriteString(strconv.FormatBool(v.boolean))
	case kindNumber:
		b.WriteString(v.text)
	case kindString:
		b.WriteString(quoteJSON(v.text))
	case kindArray:
		b.WriteByte('[')
		for i, item := range v.items {
			if i > 0 {
				b.WriteByte(',')
			}
			item.dump(b)
		}
		b.WriteByte(']')
	case kindObject:
		b.WriteByte('{')
		for i, m := range v.members {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(quoteJSON(m.key))
			b.WriteByte(':')
			m.val.dump(b)
		}
		b.WriteByte('}')
	}
}

func (v *value) String() string {
	var b strings.Builder
	v.dump(&b)
	return b.String()
}

// quoteJSON encodes s as a JSON string: quote, backslash and control
// characters escaped, everything else (non-ASCII included) as it is.
func quoteJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else if r == utf8.RuneError {
				b.WriteString(`\ufffd`)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
