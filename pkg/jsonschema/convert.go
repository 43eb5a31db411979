// Package jsonschema converts a JSON Schema to a GBNF grammar (package
// grammar) whose strings are JSON documents the schema accepts, with the
// semantics of llama.cpp's json-schema-to-grammar: the same keywords, the
// same rule names, the same whitespace between tokens.
//
// Supported: type (and lists of types), properties, required,
// additionalProperties, enum, const, anyOf, oneOf (as anyOf), allOf (of
// objects and enums), $ref to local definitions ($defs, definitions, any
// JSON pointer, recursion included), items, prefixItems, minItems,
// maxItems, minLength, maxLength, pattern (package docs of pattern.go:
// ECMA-262 without lookaround or backreferences), format (date, time,
// date-time, uuid; other formats are annotations and ignored), and
// minimum, maximum, exclusiveMinimum, exclusiveMaximum for integers.
//
// Annotations (title, description, default, examples, ...) and unknown
// keywords are ignored, as a validator ignores them. A keyword that
// constrains values in a way the grammar cannot express (multipleOf,
// bounds on non-integers, uniqueItems, not, if/then/else, ...) is an
// error naming it and the place in the schema, unless Options.Loose asks
// for llama.cpp's behaviour of dropping it.
package jsonschema

import (
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/llamafile-go/llamafile/pkg/grammar"
)

// Options change how a schema is converted.
type Options struct {
	// Loose drops the constraints the grammar cannot express, as
	// llama.cpp does, instead of failing: the grammar then accepts some
	// documents the schema rejects. Meant for tool definitions, whose
	// schemas guide a call rather than promise its validity.
	Loose bool
	// Root names the start rule, "root" when empty: another name makes
	// the grammar part of a larger one, whose own root uses it.
	Root string
}

// ToGrammar converts a JSON Schema to GBNF, root rule "root".
func ToGrammar(schema []byte) (string, error) { return Convert(schema, Options{}) }

// Convert converts a JSON Schema to GBNF, with the start rule opt.Root.
func Convert(schema []byte, opt Options) (string, error) {
	root, err := parseJSON(schema)
	if err != nil {
		return "", fmt.Errorf("jsonschema: %w", err)
	}
	if opt.Root == "" {
		opt.Root = "root"
	}
	c := &converter{opt: opt, root: root, rules: map[string]string{"space": spaceRule}, resolving: map[string]bool{}}
	if root.kind == kindBool {
		if !root.boolean {
			return "", fmt.Errorf("jsonschema: the schema false accepts nothing")
		}
		root = &value{kind: kindObject}
	}
	c.visit(root, "", "")
	if c.err != nil {
		return "", c.err
	}
	names := make([]string, 0, len(c.rules))
	for name := range c.rules {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		fmt.Fprintf(&b, "%s ::= %s\n", name, c.rules[name])
	}
	// Whatever is returned must parse: a $ref cycle that consumes no text
	// ({"$ref": "#"}) gives a left-recursive rule, and some repetitions
	// nest past the parser's limits.
	if _, err := grammar.ParseRoot(b.String(), opt.Root, nil); err != nil {
		return "", fmt.Errorf("jsonschema: the schema makes an unusable grammar: %w", err)
	}
	return b.String(), nil
}

// spaceRule is the whitespace allowed between tokens: none, a space, or
// one or two newlines and an indent, so the model may pretty-print.
const spaceRule = `| " " | "\n"{1,2} [ \t]{0,20}`

type builtin struct {
	body string
	deps []string
}

var primitives = map[string]builtin{
	"boolean":       {`("true" | "false")`, nil},
	"decimal-part":  {`[0-9]{1,16}`, nil},
	"integral-part": {`[0] | [1-9] [0-9]{0,15}`, nil},
	"number":        {`("-"? integral-part) ("." decimal-part)? ([eE] [-+]? integral-part)?`, []string{"integral-part", "decimal-part"}},
	"integer":       {`("-"? integral-part)`, []string{"integral-part"}},
	"value":         {`object | array | string | number | boolean | null`, []string{"object", "array", "string", "number", "boolean", "null"}},
	"object":        {`"{" space ( string ":" space value ("," space string ":" space value)* )? space "}"`, []string{"string", "value"}},
	"array":         {`"[" space ( value ("," space value)* )? space "]"`, []string{"value"}},
	"uuid":          {`"\"" [0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12} "\""`, nil},
	"char":          {`[^"\\\x7F\x00-\x1F] | [\\] (["\\bfnrt] | "u" [0-9a-fA-F]{4})`, nil},
	"string":        {`"\"" char* "\""`, []string{"char"}},
	"null":          {`"null"`, nil},
}

var stringFormats = map[string]builtin{
	"date":             {`[0-9]{4} "-" ( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | [1-2] [0-9] | "3" [0-1] )`, nil},
	"time":             {`([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{3} )? ( "Z" | ( "+" | "-" ) ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] )`, nil},
	"date-time":        {`date "T" time`, []string{"date", "time"}},
	"date-string":      {`"\"" date "\""`, []string{"date"}},
	"time-string":      {`"\"" time "\""`, []string{"time"}},
	"date-time-string": {`"\"" date-time "\""`, []string{"date-time"}},
}

// reserved reports the names a schema's own rules may not take: the
// start rule's, "root" (a larger grammar's), and the built-in rules'.
func (c *converter) reserved(name string) bool {
	_, p := primitives[name]
	_, f := stringFormats[name]
	return name == "root" || name == c.opt.Root || p || f
}

var (
	invalidRuleChars = regexp.MustCompile(`[^a-zA-Z0-9-]+`)
	uuidFormat       = regexp.MustCompile(`^uuid[1-5]?$`)
)

// annotations are keywords that say nothing about which documents are
// valid; they may stand beside any other.
var annotations = map[string]bool{
	"$schema": true, "$id": true, "$comment": true, "$anchor": true, "$defs": true,
	"definitions": true, "$vocabulary": true, "title": true, "description": true,
	"default": true, "examples": true, "deprecated": true, "readOnly": true,
	"writeOnly": true, "format": true, "contentEncoding": true,
	"contentMediaType": true, "contentSchema": true,
}

// unsupported are the assertions the grammar cannot express.
var unsupported = map[string]bool{
	"multipleOf": true, "contains": true, "minContains": true, "maxContains": true,
	"maxProperties": true, "patternProperties": true, "propertyNames": true,
	"dependentRequired": true, "dependentSchemas": true, "dependencies": true,
	"not": true, "if": true, "then": true, "else": true, "$dynamicRef": true,
	"$recursiveRef": true, "additionalItems": true,
}

var numberBounds = []string{"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"}

type converter struct {
	opt       Options
	root      *value
	rules     map[string]string
	resolving map[string]bool
	err       error
	depth     int // schemas being visited, nested
}

// maxSchemaDepth bounds the nesting of schemas inside a schema.
const maxSchemaDepth = 128

// fail records the first error; conversion goes on but its result is dropped.
func (c *converter) fail(path, format string, args ...any) {
	if c.err == nil {
		if path == "" {
			path = "/"
		}
		c.err = fmt.Errorf("jsonschema: %s: %s", path, fmt.Sprintf(format, args...))
	}
}

// cannot reports a constraint the grammar cannot express: an error, or
// nothing when Options.Loose drops such constraints.
func (c *converter) cannot(path, format string, args ...any) {
	if !c.opt.Loose {
		c.fail(path, format, args...)
	}
}

// addRule adds a rule under name (made a valid rule name), or under
// name with a number when another rule has that name.
func (c *converter) addRule(name, body string) string {
	esc := invalidRuleChars.ReplaceAllString(name, "-")
	if old, ok := c.rules[esc]; !ok || old == body {
		c.rules[esc] = body
		return esc
	}
	i := 0
	for {
		key := esc + strconv.Itoa(i)
		if old, ok := c.rules[key]; !ok || old == body {
			c.rules[key] = body
			return key
		}
		i++
	}
}

// addBuiltin adds a primitive or format rule and those it uses.
func (c *converter) addBuiltin(name string, b builtin) string {
	n := c.addRule(name, b.body)
	for _, dep := range b.deps {
		d, ok := primitives[dep]
		if !ok {
			d = stringFormats[dep]
		}
		if _, done := c.rules[dep]; !done {
			c.addBuiltin(dep, d)
		}
	}
	return n
}

func (c *converter) primitive(name string) string { return c.addBuiltin(name, primitives[name]) }

// formatLiteral writes s as a GBNF literal.
func formatLiteral(s string) string { return `"` + literalEscaper.Replace(s) + `"` }

var literalEscaper = strings.NewReplacer("\r", `\r`, "\n", `\n`, `"`, `\"`, `\`, `\\`)

func constRule(v *value) string { return formatLiteral(v.String()) }

func join(path, key string) string {
	key = strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
	return path + "/" + key
}

func sub(name, suffix string) string {
	if name == "" {
		return suffix
	}
	return name + "-" + suffix
}

// checkKeywords rejects the keywords no conversion of s supports.
func (c *converter) checkKeywords(s *value, path string) {
	for _, m := range s.members {
		switch {
		case unsupported[m.key]:
			c.cannot(join(path, m.key), "unsupported keyword %q", m.key)
		case m.key == "uniqueItems" && !(m.val.kind == kindBool && !m.val.boolean):
			if mx := s.get("maxItems"); mx == nil || mx.text != "0" && mx.text != "1" {
				c.cannot(join(path, m.key), "unsupported keyword %q", m.key)
			}
		case (m.key == "unevaluatedProperties" || m.key == "unevaluatedItems") && !(m.val.kind == kindBool && !m.val.boolean):
			c.cannot(join(path, m.key), "unsupported keyword %q (only false)", m.key)
		case m.key == "minProperties" && m.val.text != "0":
			c.cannot(join(path, m.key), "unsupported keyword %q", m.key)
		}
	}
}

// onlyBeside reports the assertions beside keyword, which the conversion
// of keyword ignores.
func (c *converter) onlyBeside(s *value, keyword, path string) {
	for _, m := range s.members {
		if m.key == keyword || annotations[m.key] || !known[m.key] {
			continue
		}
		if m.key == "type" {
			// As in llama.cpp, the alternatives or the target decide
			// the type; a type beside them that they break makes the
			// schema unsatisfiable, no grammar can help.
			continue
		}
		c.cannot(join(path, m.key), "%q beside %q is not supported", m.key, keyword)
	}
}

// known are the assertion keywords this converter reads.
var known = map[string]bool{
	"type": true, "properties": true, "required": true, "additionalProperties": true,
	"enum": true, "const": true, "anyOf": true, "oneOf": true, "allOf": true, "$ref": true,
	"items": true, "prefixItems": true, "minItems": true, "maxItems": true,
	"minLength": true, "maxLength": true, "pattern": true, "minimum": true,
	"maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true,
}

// visit converts schema s and returns the name of its rule.
func (c *converter) visit(s *value, name, path string) string {
	if s.kind == kindBool {
		if !s.boolean {
			c.fail(path, "the schema false accepts nothing")
			return ""
		}
		s = &value{kind: kindObject}
	}
	if s.kind != kindObject {
		c.fail(path, "a schema is an object or a boolean, not a %s", s.kind)
		return ""
	}
	// Rule names grow with the nesting, so the grammar of a deeply
	// nested schema grows with the square of its size (a 125 KB schema
	// made a 190 MB grammar); real schemas are a few levels deep.
	if c.depth >= maxSchemaDepth {
		c.fail(path, "the schema nests deeper than %d levels", maxSchemaDepth)
		return ""
	}
	c.depth++
	defer func() { c.depth-- }()
	c.checkKeywords(s, path)
	typ := s.get("type")
	format := ""
	if f := s.get("format"); f != nil && f.kind == kindString {
		format = f.text
	}
	ruleName := name
	if c.reserved(name) {
		ruleName = name + "-"
	} else if name == "" {
		ruleName = c.opt.Root
	}
	isType := func(t string) bool { return typ == nil || typ.isString(t) }

	if typ != nil && typ.kind != kindArray && typ.kind != kindString {
		c.fail(join(path, "type"), "a type is a string or a list of strings, not a %s", typ.kind)
		return ""
	}
	if typ != nil && typ.kind == kindString {
		switch typ.text {
		case "string", "number", "integer", "boolean", "null", "object", "array":
		default:
			c.fail(join(path, "type"), "unknown type %q", typ.text)
			return ""
		}
	}

	switch {
	case s.has("$ref"):
		ref := s.get("$ref")
		if ref.kind != kindString {
			c.fail(join(path, "$ref"), "not a string")
			return ""
		}
		c.onlyBeside(s, "$ref", path)
		return c.addRule(ruleName, c.resolveRef(ref.text, join(path, "$ref")))

	case s.has("oneOf") || s.has("anyOf"):
		key := "anyOf"
		if s.has("oneOf") {
			key = "oneOf"
		}
		alts := s.get(key)
		if alts.kind != kindArray || len(alts.items) == 0 {
			c.fail(join(path, key), "a non-empty list of schemas is needed")
			return ""
		}
		c.onlyBeside(s, key, path)
		return c.addRule(ruleName, c.union(name, alts.items, join(path, key)))

	case typ != nil && typ.kind == kindArray:
		if len(typ.items) == 0 {
			c.fail(join(path, "type"), "an empty list of types")
			return ""
		}
		var alts []*value
		for _, t := range typ.items {
			alts = append(alts, s.with("type", t))
		}
		return c.addRule(ruleName, c.union(name, alts, path))

	case s.has("const"):
		return c.addRule(ruleName, constRule(s.get("const")))

	case s.has("enum"):
		e := s.get("enum")
		if e.kind != kindArray || len(e.items) == 0 {
			c.fail(join(path, "enum"), "a non-empty list of values is needed")
			return ""
		}
		var alts []string
		for _, v := range e.items {
			alts = append(alts, constRule(v))
		}
		return c.addRule(ruleName, "("+strings.Join(alts, " | ")+")")

	case isType("object") && (s.has("properties") || (s.has("additionalProperties") && !isTrue(s.get("additionalProperties")))):
		if s.has("allOf") {
			c.cannot(join(path, "allOf"), `"allOf" beside "properties" is not supported`)
		}
		return c.addRule(ruleName, c.objectRule(s, name, path))

	case (typ == nil || typ.isString("object") || typ.isString("string")) && s.has("allOf"):
		return c.allOf(s, name, ruleName, path)

	case isType("array") && (s.has("items") || s.has("prefixItems") || (typ != nil && (s.has("minItems") || s.has("maxItems")))):
		return c.addRule(ruleName, c.arrayRule(s, name, path))

	case isType("string") && s.has("pattern"):
		c.noLengths(s, "pattern", path)
		return c.patternRule(s, ruleName, path)

	case isType("string") && uuidFormat.MatchString(format):
		c.noLengths(s, "format", path)
		n := format
		if ruleName == c.opt.Root {
			n = ruleName
		}
		return c.addBuiltin(n, primitives["uuid"])

	case isType("string") && stringFormats[format+"-string"].body != "":
		c.noLengths(s, "format", path)
		n := format + "-string"
		return c.addRule(ruleName, c.addBuiltin(n, stringFormats[n]))

	case typ.isString("string") && (s.has("minLength") || s.has("maxLength")):
		lo, hi, ok := c.lengths(s, "minLength", "maxLength", path)
		if !ok {
			return ""
		}
		return c.addRule(ruleName, `"\"" `+repeat(c.primitive("char"), lo, hi, "")+` "\""`)

	case typ.isString("integer") && hasAny(s, numberBounds...):
		return c.addRule(ruleName, c.integerBounds(s, path))

	case len(s.members) == 0 || typ.isString("object"):
		return c.addRule(ruleName, c.primitive("object"))
	}

	// What is left: a bare type, or no type and no keyword that converts.
	if typ == nil || typ.isString("number") {
		for _, k := range numberBounds {
			if s.has(k) {
				c.cannot(join(path, k), "%q is supported only with \"type\": \"integer\"", k)
			}
		}
	}
	if typ == nil {
		for _, k := range []string{"minLength", "maxLength"} {
			if s.has(k) {
				c.cannot(join(path, k), "%q is supported only with \"type\": \"string\"", k)
			}
		}
		for _, k := range []string{"minItems", "maxItems"} {
			if s.has(k) {
				c.cannot(join(path, k), "%q is supported only with \"type\": \"array\" or \"items\"", k)
			}
		}
		if s.has("required") {
			c.cannot(join(path, "required"), `"required" is supported only with "properties"`)
		}
		return c.addRule(ruleName, c.primitive("value"))
	}
	t := typ.text
	n := t
	if ruleName == c.opt.Root {
		n = ruleName
	}
	return c.addBuiltin(n, primitives[t])
}

func isTrue(v *value) bool { return v != nil && v.kind == kindBool && v.boolean }

func hasAny(s *value, keys ...string) bool {
	for _, k := range keys {
		if s.has(k) {
			return true
		}
	}
	return false
}

// noLengths reports minLength and maxLength beside keyword, which
// decides the string's form alone.
func (c *converter) noLengths(s *value, keyword, path string) {
	for _, k := range []string{"minLength", "maxLength"} {
		if s.has(k) {
			c.cannot(join(path, k), "%q beside %q is not supported", k, keyword)
		}
	}
}

// count reads a non-negative integer keyword.
func (c *converter) count(s *value, key, path string) (int, bool) {
	v := s.get(key)
	n, err := strconv.Atoi(v.text)
	if v.kind != kindNumber || err != nil || n < 0 {
		if f, ferr := strconv.ParseFloat(v.text, 64); v.kind == kindNumber && ferr == nil && f == float64(int(f)) && f >= 0 {
			return int(f), true
		}
		c.fail(join(path, key), "not a non-negative integer: %s", v)
		return 0, false
	}
	return n, true
}

// maxRepetitions is the grammar parser's limit on a repetition count
// (llama.cpp's MAX_REPETITION_THRESHOLD).
const maxRepetitions = 2000

// lengths reads a min and max pair; max < 0 when there is none.
func (c *converter) lengths(s *value, minKey, maxKey, path string) (int, int, bool) {
	lo, hi := 0, -1
	ok := true
	if s.has(minKey) {
		lo, ok = c.count(s, minKey, path)
	}
	if ok && lo > maxRepetitions {
		c.fail(join(path, minKey), "%s %d is more than the %d repetitions a grammar allows", minKey, lo, maxRepetitions)
		ok = false
	}
	if s.has(maxKey) && ok {
		hi, ok = c.count(s, maxKey, path)
		if ok && hi < lo {
			c.fail(join(path, maxKey), "%s %d is below %s %d", maxKey, hi, minKey, lo)
			ok = false
		}
		if ok && hi > maxRepetitions {
			// Loose drops the bound: the grammar accepts longer values.
			c.cannot(join(path, maxKey), "%s %d is more than the %d repetitions a grammar allows", maxKey, hi, maxRepetitions)
			hi = -1
		}
	}
	return lo, hi, ok
}

func (c *converter) union(name string, alts []*value, path string) string {
	var rules []string
	for i, alt := range alts {
		altName := name + "-" + strconv.Itoa(i)
		if name == "" {
			altName = "alternative-" + strconv.Itoa(i)
		}
		rules = append(rules, c.visit(alt, altName, path+"/"+strconv.Itoa(i)))
	}
	return strings.Join(rules, " | ")
}

// resolveRef returns the rule of a local reference, converting its
// target the first time; a reference being converted (recursion) is
// used by name.
func (c *converter) resolveRef(ref, path string) string {
	target := c.lookup(ref, path)
	if target == nil {
		return ""
	}
	_, fragment, _ := strings.Cut(ref, "#")
	name := "ref" + invalidRuleChars.ReplaceAllString(fragment, "-")
	if _, done := c.rules[name]; !done && !c.resolving[ref] {
		c.resolving[ref] = true
		name = c.visit(target, name, ref)
		delete(c.resolving, ref)
	}
	return name
}

// lookup finds the schema a local reference points to.
func (c *converter) lookup(ref, path string) *value {
	if !strings.HasPrefix(ref, "#") {
		c.fail(path, "reference %q: only local references (#/...) are supported", ref)
		return nil
	}
	pointer := ref[1:]
	if pointer != "" && !strings.HasPrefix(pointer, "/") {
		c.fail(path, "reference %q: anchors are not supported, only JSON pointers", ref)
		return nil
	}
	target := c.root
	if pointer == "" {
		return target
	}
	for _, tok := range strings.Split(pointer[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		var next *value
		switch target.kind {
		case kindObject:
			next = target.get(tok)
		case kindArray:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(target.items) {
				next = target.items[i]
			}
		}
		if next == nil {
			c.fail(path, "reference %q: %q not found", ref, tok)
			return nil
		}
		target = next
	}
	return target
}

// objectRule writes an object with the properties of s: the required
// ones in order, then any of the optional ones in order, then the
// additional ones if allowed.
func (c *converter) objectRule(s *value, name, path string) string {
	var props []member
	if p := s.get("properties"); p != nil {
		if p.kind != kindObject {
			c.fail(join(path, "properties"), "not an object")
			return ""
		}
		props = p.members
	}
	inProps := map[string]bool{}
	for _, p := range props {
		inProps[p.key] = true
	}
	required := map[string]bool{}
	if r := s.get("required"); r != nil {
		if r.kind != kindArray {
			c.fail(join(path, "required"), "not a list")
			return ""
		}
		for i, item := range r.items {
			switch {
			case item.kind != kindString:
				c.fail(join(path, "required")+"/"+strconv.Itoa(i), "not a string")
				return ""
			case !inProps[item.text]:
				// The grammar writes only the properties it knows by name.
				c.cannot(join(path, "required")+"/"+strconv.Itoa(i), "required property %q is not in \"properties\"", item.text)
			default:
				required[item.text] = true
			}
		}
	}
	add := s.get("additionalProperties")
	return c.buildObject(props, required, name, add, join(path, "properties"), join(path, "additionalProperties"))
}

func (v *value) itemsOrNil() []*value {
	if v == nil {
		return nil
	}
	return v.items
}

func (c *converter) buildObject(props []member, required map[string]bool, name string, additional *value, propsPath, addPath string) string {
	var req, opt []string
	kv := map[string]string{}
	var names []string
	for _, p := range props {
		valueRule := c.visit(p.val, sub(name, p.key), join(propsPath, p.key))
		kv[p.key] = c.addRule(sub(name, p.key)+"-kv", formatLiteral(quoteJSON(p.key))+` space ":" space `+valueRule)
		if required[p.key] {
			req = append(req, p.key)
		} else {
			opt = append(opt, p.key)
		}
		names = append(names, p.key)
	}
	if additional != nil && (isTrue(additional) || additional.kind == kindObject) {
		subName := sub(name, "additional")
		var valueRule string
		if additional.kind == kindObject {
			valueRule = c.visit(additional, subName+"-value", addPath)
		} else {
			valueRule = c.primitive("value")
		}
		var keyRule string
		if len(names) == 0 {
			keyRule = c.primitive("string")
		} else {
			keyRule = c.addRule(subName+"-k", c.notStrings(names))
		}
		kv["*"] = c.addRule(subName+"-kv", keyRule+` ":" space `+valueRule)
		opt = append(opt, "*")
	}
	if len(req) == 0 && len(opt) == 0 {
		return `"{" space "}"`
	}
	var b strings.Builder
	b.WriteString(`"{" space `)
	for i, k := range req {
		if i > 0 {
			b.WriteString(` "," space `)
		}
		b.WriteString(kv[k])
	}
	if len(opt) > 0 {
		b.WriteString(" (")
		if len(req) > 0 {
			b.WriteString(` "," space ( `)
		}
		// rest writes the optional properties from ks[0] on: ks[0] (with
		// its comma when firstOptional) then, in a rule of its own, the
		// rest, each optional.
		var rest func(ks []string, firstOptional bool) string
		rest = func(ks []string, firstOptional bool) string {
			k := ks[0]
			comma := `( "," space ` + kv[k] + ` )`
			var res string
			switch {
			case firstOptional && k == "*":
				res = comma + "*"
			case firstOptional:
				res = comma + "?"
			case k == "*":
				res = kv[k] + " " + comma + "*"
			default:
				res = kv[k]
			}
			if len(ks) > 1 {
				res += " " + c.addRule(sub(name, k)+"-rest", rest(ks[1:], true))
			}
			return res
		}
		for i := range opt {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(rest(opt[i:], false))
		}
		if len(req) > 0 {
			b.WriteString(" )")
		}
		b.WriteString(" )?")
	}
	b.WriteString(` space "}"`)
	return b.String()
}

// notStrings matches a JSON string (the key of an additional property)
// that is none of names, with a trie of the names.
func (c *converter) notStrings(names []string) string {
	type node struct {
		children map[rune]*node
		end      bool
	}
	newNode := func() *node { return &node{children: map[rune]*node{}} }
	trie := newNode()
	for _, s := range names {
		n := trie
		enc := quoteJSON(s)
		for _, r := range enc[1 : len(enc)-1] {
			next := n.children[r]
			if next == nil {
				next = newNode()
				n.children[r] = next
			}
			n = next
		}
		n.end = true
	}
	char := c.primitive("char")
	var b strings.Builder
	b.WriteString(`["] ( `)
	var walk func(n *node)
	walk = func(n *node) {
		keys := make([]rune, 0, len(n.children))
		for r := range n.children {
			keys = append(keys, r)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		var rejects strings.Builder
		for i, r := range keys {
			child := n.children[r]
			rejects.WriteString(classChar(r))
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString("[" + classChar(r) + "]")
			if len(child.children) > 0 {
				b.WriteString(" (")
				walk(child)
				b.WriteString(")")
			} else if child.end {
				b.WriteString(" " + char + "+")
			}
		}
		if len(keys) > 0 {
			b.WriteString(` | [^"\\\x00-\x1F\x7F` + rejects.String() + "] " + char + "*")
		}
	}
	walk(trie)
	b.WriteString(" )")
	if !trie.end {
		b.WriteString("?")
	}
	b.WriteString(` ["]`)
	return b.String()
}

// allOf merges the properties of objects (all required, and those of an
// anyOf inside optional) or intersects enums, as llama.cpp does.
func (c *converter) allOf(s *value, name, ruleName, path string) string {
	all := s.get("allOf")
	if all.kind != kindArray || len(all.items) == 0 {
		c.fail(join(path, "allOf"), "a non-empty list of schemas is needed")
		return ""
	}
	required := map[string]bool{}
	var props []member
	enumCount := map[string]int{}
	var enumOrder []string
	var add func(comp *value, isRequired bool, at string)
	add = func(comp *value, isRequired bool, at string) {
		if comp.kind != kindObject {
			c.fail(at, "a schema in allOf must be an object")
			return
		}
		switch {
		case comp.has("$ref"):
			ref := comp.get("$ref")
			if target := c.lookup(ref.text, join(at, "$ref")); target != nil {
				add(target, isRequired, ref.text)
			}
		case comp.has("properties"):
			p := comp.get("properties")
			if p.kind != kindObject {
				c.fail(join(at, "properties"), "not an object")
				return
			}
			for _, m := range p.members {
				props = append(props, m)
				if isRequired {
					required[m.key] = true
				}
			}
		case comp.has("enum"):
			for _, v := range comp.get("enum").itemsOrNil() {
				r := constRule(v)
				if enumCount[r] == 0 {
					enumOrder = append(enumOrder, r)
				}
				enumCount[r]++
			}
		default:
			for _, m := range comp.members {
				if !annotations[m.key] && m.key != "type" {
					c.cannot(join(at, m.key), "%q in allOf is not supported (only properties, enum, $ref and anyOf)", m.key)
					return
				}
			}
		}
	}
	for i, comp := range all.items {
		at := join(path, "allOf") + "/" + strconv.Itoa(i)
		if any := comp.get("anyOf"); any != nil {
			for j, alt := range any.itemsOrNil() {
				add(alt, false, join(at, "anyOf")+"/"+strconv.Itoa(j))
			}
			continue
		}
		add(comp, true, at)
	}
	if len(enumOrder) > 0 {
		sort.Strings(enumOrder)
		var both []string
		for _, r := range enumOrder {
			if enumCount[r] == len(all.items) {
				both = append(both, r)
			}
		}
		if len(both) > 0 {
			return c.addRule(ruleName, "("+strings.Join(both, " | ")+")")
		}
	}
	return c.addRule(ruleName, c.buildObject(props, required, name, nil, join(path, "allOf"), ""))
}

// arrayRule writes an array: a tuple (prefixItems, or items as a list),
// then items repeated between minItems and maxItems.
func (c *converter) arrayRule(s *value, name, path string) string {
	lo, hi, ok := c.lengths(s, "minItems", "maxItems", path)
	if !ok {
		return ""
	}
	items := s.get("items")
	var tuple []*value
	tuplePath := join(path, "prefixItems")
	switch {
	case s.has("prefixItems") && s.get("prefixItems").kind == kindObject:
		// Not JSON Schema, but llama.cpp reads it as items.
		if items == nil {
			items = s.get("prefixItems")
		}
	case s.has("prefixItems"):
		p := s.get("prefixItems")
		if p.kind != kindArray {
			c.fail(tuplePath, "not a list")
			return ""
		}
		tuple = p.items
	case items != nil && items.kind == kindArray:
		tuple, items, tuplePath = items.items, nil, join(path, "items")
	}
	var b strings.Builder
	b.WriteString(`"[" space `)
	for i, t := range tuple {
		if i > 0 {
			b.WriteString(` "," space `)
		}
		b.WriteString(c.visit(t, sub(name, "tuple-"+strconv.Itoa(i)), tuplePath+"/"+strconv.Itoa(i)))
	}
	n := len(tuple)
	// After a tuple, items says what may follow (nothing when absent:
	// fewer items than JSON Schema allows, but valid); without one, every
	// item is an items, or any value.
	more := tuple == nil || (items != nil && !(items.kind == kindBool && !items.boolean))
	if !more {
		if n < lo || (hi >= 0 && n > hi) {
			c.cannot(path, "a tuple of %d items with minItems %d and maxItems %d is not supported", n, lo, hi)
		}
		b.WriteString(` space "]"`)
		return b.String()
	}
	var itemRule string
	if items == nil {
		itemRule = c.primitive("value")
	} else {
		itemRule = c.visit(items, sub(name, "item"), join(path, "items"))
	}
	restLo, restHi := lo-n, hi-n
	if restLo < 0 {
		restLo = 0
	}
	if hi < 0 {
		restHi = -1
	} else if restHi < 0 {
		c.cannot(join(path, "maxItems"), "maxItems %d is below the %d items of the tuple", hi, n)
		restHi = 0
	}
	if n == 0 {
		b.WriteString(repeat(itemRule, restLo, restHi, `"," space`))
	} else if restHi != 0 {
		b.WriteString(" " + repeat(`("," space `+itemRule+`)`, restLo, restHi, ""))
	}
	b.WriteString(` space "]"`)
	return b.String()
}

// patternRule writes a string matching s's pattern.
func (c *converter) patternRule(s *value, ruleName, path string) string {
	p := s.get("pattern")
	if p.kind != kindString {
		c.fail(join(path, "pattern"), "not a string")
		return ""
	}
	body, err := patternToGBNF(p.text, c.primitive("char"))
	if err != nil {
		if c.opt.Loose {
			return c.addRule(ruleName, c.primitive("string"))
		}
		c.fail(join(path, "pattern"), "%q: %v", p.text, err)
		return ""
	}
	return c.addRule(ruleName, `"\"" (`+body+`) "\""`)
}

// integerBounds writes an integer between minimum (or exclusiveMinimum)
// and maximum (or exclusiveMaximum).
func (c *converter) integerBounds(s *value, path string) string {
	lo, hi := int64(0), int64(0)
	hasLo, hasHi := false, false
	bound := func(key string, lower, exclusive bool) {
		v := s.get(key)
		if v == nil || v.kind == kindBool {
			return // a draft-04 exclusive flag, read with its bound
		}
		if v.kind != kindNumber {
			c.fail(join(path, key), "not a number: %s", v)
			return
		}
		if !exclusive {
			// Draft 4: "exclusiveMinimum": true makes minimum exclusive.
			flag := "exclusiveMaximum"
			if lower {
				flag = "exclusiveMinimum"
			}
			exclusive = isTrue(s.get(flag))
		}
		b, ok, err := intBound(v.text, lower)
		if err != nil {
			c.fail(join(path, key), "%v", err)
			return
		}
		if !ok {
			return
		}
		// An exclusive bound that is not an integer is already past.
		if f, _ := new(big.Float).SetString(v.text); exclusive && f.IsInt() {
			if lower {
				b++
			} else {
				b--
			}
		}
		if lower && (!hasLo || b > lo) {
			lo, hasLo = b, true
		}
		if !lower && (!hasHi || b < hi) {
			hi, hasHi = b, true
		}
	}
	bound("minimum", true, false)
	bound("exclusiveMinimum", true, true)
	bound("maximum", false, false)
	bound("exclusiveMaximum", false, true)
	if hasLo && hasHi && lo > hi {
		c.fail(path, "no integer lies between the bounds %d and %d", lo, hi)
		return ""
	}
	return "(" + integerRule(lo, hi, hasLo, hasHi) + ")"
}
