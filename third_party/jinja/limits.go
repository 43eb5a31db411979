package jinja

// This file is llamafile's addition to ardanlabs/jinja v1.8.0 (see
// README.llamafile.md): bounds on a render, so that a hostile or broken
// template (endless recursion, a huge loop or output) ends with an error
// instead of exhausting the stack, memory or time of the process.

import (
	"errors"
	"fmt"
	"time"
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
