package jinja

// This file is llamafile's addition to ardanlabs/jinja v1.8.0 (see
// README.llamafile.md): bounds on a render, so that a hostile or broken
// template (endless recursion, a huge loop or output) ends with an error
// instead of exhausting the stack, memory or time of the process.

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits bound one render. A zero field takes the default of DefaultLimits.
type Limits struct {
	// Timeout is the most wall time a render may take.
	Timeout time.Duration
	// MaxOutput is the most bytes the render may produce, counting the
	// text captured by macros, set blocks and filters on the way.
	MaxOutput int
	// MaxDepth is the deepest nesting of macro and caller calls.
	MaxDepth int
	// MaxRange is the most items range() may make.
	MaxRange int
	// Python, when set, raises where Hugging Face's jinja2 environment
	// (an ImmutableSandboxedEnvironment) raises, instead of going on:
	// iterating None, adding a string to a non-string, and calling the
	// methods that change a list or a dict. Not a limit, but a property
	// of the render too.
	Python bool
	// Now, when not zero, is the time strftime_now() reads (for
	// reproducible output, as SOURCE_DATE_EPOCH asks); not a limit, but
	// a property of the render too.
	Now time.Time
}

// DefaultLimits suit chat templates: real ones render in microseconds to
// kilobytes of text.
var DefaultLimits = Limits{Timeout: 2 * time.Second, MaxOutput: 8 << 20, MaxDepth: 256, MaxRange: 1 << 20}

// ErrLimit is returned (wrapped) when a render exceeds its Limits.
var ErrLimit = errors.New("jinja: render limit exceeded")

// budget is a render's Limits and what it has used, shared by the
// evaluators of one render (macros, caller blocks and filters run in
// evaluators of their own).
type budget struct {
	lim      Limits
	deadline time.Time
	steps    int
	written  int
	depth    int
}

func newBudget(lim Limits) *budget {
	d := DefaultLimits
	if lim.Timeout > 0 {
		d.Timeout = lim.Timeout
	}
	if lim.MaxOutput > 0 {
		d.MaxOutput = lim.MaxOutput
	}
	if lim.MaxDepth > 0 {
		d.MaxDepth = lim.MaxDepth
	}
	if lim.MaxRange > 0 {
		d.MaxRange = lim.MaxRange
	}
	d.Now, d.Python = lim.Now, lim.Python
	return &budget{lim: d, deadline: time.Now().Add(d.Timeout)}
}

// step counts one node or call; every so often it checks the clock.
func (b *budget) step() error {
	if b == nil {
		return nil
	}
	b.steps++
	if b.steps&1023 == 0 && time.Now().After(b.deadline) {
		return fmt.Errorf("%w: the template ran longer than %v", ErrLimit, b.lim.Timeout)
	}
	return nil
}

// write counts n bytes of output.
func (b *budget) write(n int) error {
	if b == nil {
		return nil
	}
	b.written += n
	if b.written > b.lim.MaxOutput {
		return fmt.Errorf("%w: the template wrote more than %d bytes", ErrLimit, b.lim.MaxOutput)
	}
	return nil
}

// enter and leave bracket a macro or caller call.
func (b *budget) enter(name string) error {
	if b == nil {
		return nil
	}
	b.depth++
	if b.depth > b.lim.MaxDepth {
		return fmt.Errorf("%w: calls nested deeper than %d (in %s)", ErrLimit, b.lim.MaxDepth, name)
	}
	return nil
}

func (b *budget) leave() {
	if b != nil {
		b.depth--
	}
}

// RenderLimited is Render within lim; a panic in the engine becomes an
// error too.
func (t *Template) RenderLimited(data map[string]any, lim Limits) (out string, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, err = "", fmt.Errorf("jinja: render failed: %v", v)
		}
	}()
	vals := make(map[string]Value, len(data))
	for k, v := range data {
		vals[k] = FromGoValue(v)
	}
	return t.RenderValuesLimited(vals, lim)
}

// RenderValuesLimited is RenderValues within lim.
func (t *Template) RenderValuesLimited(data map[string]Value, lim Limits) (out string, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, err = "", fmt.Errorf("jinja: render failed: %v", v)
		}
	}()
	return renderWith(t.nodes, data, newBudget(lim))
}

// rangeFn is range() refusing to make more than MaxRange items.
func (b *budget) rangeFn(args []Value, kwargs map[string]Value) (Value, error) {
	var start, stop, step int64 = 0, 0, 1
	switch len(args) {
	case 1:
		stop = toInt64(args[0])
	case 2, 3:
		start, stop = toInt64(args[0]), toInt64(args[1])
		if len(args) == 3 {
			step = toInt64(args[2])
		}
	}
	if len(args) >= 1 && len(args) <= 3 && step != 0 {
		n := (stop - start + step - sign(step)) / step
		if n > int64(b.lim.MaxRange) {
			return Undefined(), fmt.Errorf("%w: range of %d items (the limit is %d)", ErrLimit, n, b.lim.MaxRange)
		}
	}
	return builtinRange(args, kwargs)
}

func sign(x int64) int64 {
	if x < 0 {
		return -1
	}
	return 1
}

// strftimeNow is strftime_now() reading the fixed clock.
func (b *budget) strftimeNow(args []Value, kwargs map[string]Value) (Value, error) {
	format := "%Y-%m-%d"
	if len(args) > 0 {
		format = printValue(args[0])
	}
	return NewString(b.lim.Now.Format(strftimeToGo(format))), nil
}

// python reports whether the render follows Python's stricter rules.
func (b *budget) python() bool { return b != nil && b.lim.Python }

// typeName is a value's Python type name, for error messages.
func typeName(v Value) string {
	switch v.kind {
	case KindNone:
		return "NoneType"
	case KindBool:
		return "bool"
	case KindInt:
		return "int"
	case KindFloat:
		return "float"
	case KindString:
		return "str"
	case KindList:
		return "list"
	case KindDict:
		return "dict"
	case KindUndefined:
		return "Undefined"
	}
	return "object"
}

// checkAdd raises Python's TypeError for + between a string or list and
// a value of another type.
func (b *budget) checkAdd(l, r Value) error {
	if !b.python() {
		return nil
	}
	for _, k := range []Kind{KindString, KindList} {
		if (l.kind == k) != (r.kind == k) {
			if l.kind == KindString {
				return fmt.Errorf("TypeError: can only concatenate str (not %q) to str", typeName(r))
			}
			if l.kind == KindList {
				return fmt.Errorf("TypeError: can only concatenate list (not %q) to list", typeName(r))
			}
			return fmt.Errorf("TypeError: unsupported operand type(s) for +: '%s' and '%s'", typeName(l), typeName(r))
		}
	}
	return nil
}

// checkMutation raises the sandbox's SecurityError for methods that
// change a list or dict.
func (b *budget) checkMutation(kind, method string) error {
	if !b.python() {
		return nil
	}
	switch method {
	case "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "popitem", "setdefault":
		return fmt.Errorf("SecurityError: access to attribute '%s' of '%s' object is unsafe", method, kind)
	}
	return nil
}

// size checks that a value about to be made, of n bytes (a string) or n
// items (a list), fits in MaxOutput: without it a template doubling a
// string or a list in a loop (s ~ s, l + l, replace, join) exhausts
// memory long before it writes anything (llamafile).
func (b *budget) size(what string, n int64) error {
	if b == nil || n <= int64(b.lim.MaxOutput) {
		return nil
	}
	return fmt.Errorf("%w: %s would make a value of %d bytes or items (the limit is %d)", ErrLimit, what, n, b.lim.MaxOutput)
}

// valueSize is the bytes of a string or the items of a list or dict.
func valueSize(v Value) int64 {
	switch {
	case v.IsString():
		return int64(len(v.AsString()))
	case v.IsList():
		return int64(v.AsList().Len())
	case v.IsDict():
		return int64(len(v.AsDict().OrderedKeys()))
	}
	return 0
}

// checkFilter bounds, before it runs, what a filter that can multiply
// the size of its input would make.
func (b *budget) checkFilter(name string, args []Value, kwargs map[string]Value) error {
	if b == nil || len(args) == 0 {
		return nil
	}
	switch name {
	case "replace":
		if len(args) >= 3 {
			return b.size("replace", replacedSize(printValue(args[0]), printValue(args[1]), printValue(args[2])))
		}
	case "join":
		if args[0].IsList() {
			sep := int64(0)
			if len(args) > 1 {
				sep = int64(len(printValue(args[1])))
			}
			if d, ok := kwargs["d"]; ok {
				sep = int64(len(printValue(d)))
			}
			n := int64(args[0].AsList().Len())
			total := sep * max(n-1, 0)
			for _, item := range args[0].AsList().Items {
				if total > int64(b.lim.MaxOutput) {
					break
				}
				total += int64(len(printValue(item)))
			}
			return b.size("join", total)
		}
	case "tojson":
		indent, ok := kwargs["indent"]
		if !ok || indent.IsNone() || indent.IsUndefined() {
			return nil
		}
		pad := toInt64(indent)
		if indent.IsString() {
			pad = int64(len(indent.AsString()))
		}
		if pad < 0 {
			return fmt.Errorf("tojson: negative indent %d", pad)
		}
		// Every element is on its own line, indented by its depth.
		nodes, depth := jsonShape(args[0], 0, int64(b.lim.MaxOutput))
		if pad > int64(b.lim.MaxOutput) || depth > 0 && nodes*depth > int64(b.lim.MaxOutput)/max(pad, 1) {
			return b.size("tojson", int64(b.lim.MaxOutput)+1)
		}
		return nil
	case "indent":
		width := int64(4)
		if len(args) > 1 {
			width = toInt64(args[1])
		}
		if w, ok := kwargs["width"]; ok {
			width = toInt64(w)
		}
		if width < 0 {
			return fmt.Errorf("indent: negative width %d", width)
		}
		s := printValue(args[0])
		lines := int64(strings.Count(s, "\n") + 1)
		if width > int64(b.lim.MaxOutput) || lines > int64(b.lim.MaxOutput)/max(width, 1) {
			return b.size("indent", int64(b.lim.MaxOutput)+1)
		}
		return b.size("indent", int64(len(s))+lines*width)
	}
	return nil
}

// replacedSize is the length of strings.Replace(s, old, new, -1).
func replacedSize(s, old, new string) int64 {
	n := int64(utf8.RuneCountInString(s) + 1)
	if old != "" {
		n = int64(strings.Count(s, old))
	}
	return int64(len(s)) + n*(int64(len(new))-int64(len(old)))
}

// jsonShape counts the elements of v (stopping past limit) and its depth.
func jsonShape(v Value, depth, limit int64) (nodes, maxDepth int64) {
	nodes, maxDepth = 1, depth
	var children []Value
	switch {
	case v.IsList():
		children = v.AsList().Items
	case v.IsDict():
		for _, k := range v.AsDict().Keys {
			children = append(children, v.AsDict().Data[k])
		}
	}
	for _, c := range children {
		if nodes > limit {
			break
		}
		n, d := jsonShape(c, depth+1, limit-nodes)
		nodes, maxDepth = nodes+n, max(maxDepth, d)
	}
	return nodes, maxDepth
}
