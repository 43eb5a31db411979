package gguf

import (
	"errors"
	"fmt"
	"math"
)

// ErrKeyNotFound is wrapped by the Get* helpers when a key is absent:
// errors.Is(err, gguf.ErrKeyNotFound).
var ErrKeyNotFound = errors.New("key not found")

// Get returns the value of key.
func (f *File) Get(key string) (Value, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return Value{}, false
	}
	return f.KV[i].Value, true
}

// Architecture returns general.architecture, or "" when it is absent or not
// a string.
func (f *File) Architecture() string {
	s, _ := f.GetString("general.architecture")
	return s
}

func (f *File) lookup(key string) (Value, error) {
	v, ok := f.Get(key)
	if !ok {
		return v, fmt.Errorf("gguf: key %q: %w", key, ErrKeyNotFound)
	}
	return v, nil
}

func typeError(key string, v Value, want string) error {
	return fmt.Errorf("gguf: key %q: have %s, want %s", key, v.TypeName(), want)
}

// GetString returns the string value of key.
func (f *File) GetString(key string) (string, error) {
	v, err := f.lookup(key)
	if err != nil {
		return "", err
	}
	s, ok := v.V.(string)
	if v.Type != TypeString || !ok {
		return "", typeError(key, v, "string")
	}
	return s, nil
}

// GetBool returns the bool value of key.
func (f *File) GetBool(key string) (bool, error) {
	v, err := f.lookup(key)
	if err != nil {
		return false, err
	}
	b, ok := v.V.(bool)
	if v.Type != TypeBool || !ok {
		return false, typeError(key, v, "bool")
	}
	return b, nil
}

// asInt converts an integer scalar to int64; ok is false for other types
// and for uint64 values above math.MaxInt64.
func asInt(x any) (int64, bool) {
	switch x := x.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

// asUint converts a non-negative integer scalar to uint64.
func asUint(v Value) (uint64, bool) {
	if u, ok := v.V.(uint64); ok {
		return u, true
	}
	i, ok := asInt(v.V)
	if !ok || i < 0 {
		return 0, false
	}
	return uint64(i), true
}

// GetUint returns the value of key, which may have any integer type, as a
// uint64. Negative values are an error.
func (f *File) GetUint(key string) (uint64, error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	if !v.Type.IsInteger() {
		return 0, typeError(key, v, "integer")
	}
	u, ok := asUint(v)
	if !ok {
		return 0, fmt.Errorf("gguf: key %q: %s value %v is negative", key, v.TypeName(), v.V)
	}
	return u, nil
}

// GetInt returns the value of key, which may have any integer type, as an
// int64. A uint64 above math.MaxInt64 is an error.
func (f *File) GetInt(key string) (int64, error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	if !v.Type.IsInteger() {
		return 0, typeError(key, v, "integer")
	}
	i, ok := asInt(v.V)
	if !ok {
		return 0, fmt.Errorf("gguf: key %q: %s value %v overflows int64", key, v.TypeName(), v.V)
	}
	return i, nil
}

// GetFloat returns the value of key, which may have any numeric type, as a
// float64.
func (f *File) GetFloat(key string) (float64, error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	switch x := v.V.(type) {
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	case uint64:
		return float64(x), nil
	}
	if i, ok := asInt(v.V); ok && v.Type.IsInteger() {
		return float64(i), nil
	}
	return 0, typeError(key, v, "number")
}

// GetStrings returns a copy of the array[string] value of key.
func (f *File) GetStrings(key string) ([]string, error) {
	v, err := f.lookup(key)
	if err != nil {
		return nil, err
	}
	ss, ok := v.V.([]string)
	if v.Type != TypeArray || !ok {
		return nil, typeError(key, v, "array[string]")
	}
	return append([]string(nil), ss...), nil
}

// GetFloat32s returns the numeric array value of key as float32s (a copy).
// Arrays of float64 and of integers are converted.
func (f *File) GetFloat32s(key string) ([]float32, error) {
	v, err := f.lookup(key)
	if err != nil {
		return nil, err
	}
	if v.Type != TypeArray {
		return nil, typeError(key, v, "array[float32]")
	}
	switch a := v.V.(type) {
	case []float32:
		return append([]float32(nil), a...), nil
	case []float64:
		return convertSlice(a, func(x float64) float32 { return float32(x) }), nil
	}
	if v.ElemType.IsInteger() {
		out := make([]float32, 0, v.Len())
		err := eachInt(v, func(i int64, u uint64, big bool) error {
			if big {
				out = append(out, float32(u))
			} else {
				out = append(out, float32(i))
			}
			return nil
		})
		return out, err
	}
	return nil, typeError(key, v, "array[float32]")
}

// GetInt32s returns the integer array value of key as int32s (a copy).
// Arrays of other integer types are converted; an element outside the int32
// range is an error.
func (f *File) GetInt32s(key string) ([]int32, error) {
	v, err := f.lookup(key)
	if err != nil {
		return nil, err
	}
	if v.Type != TypeArray || !v.ElemType.IsInteger() {
		return nil, typeError(key, v, "array[int32]")
	}
	if a, ok := v.V.([]int32); ok {
		return append([]int32(nil), a...), nil
	}
	out := make([]int32, 0, v.Len())
	n := 0
	err = eachInt(v, func(i int64, u uint64, big bool) error {
		if big || i < math.MinInt32 || i > math.MaxInt32 {
			if big {
				return fmt.Errorf("gguf: key %q: element %d (%d) is out of the int32 range", key, n, u)
			}
			return fmt.Errorf("gguf: key %q: element %d (%d) is out of the int32 range", key, n, i)
		}
		out = append(out, int32(i))
		n++
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func convertSlice[S, T any](in []S, conv func(S) T) []T {
	out := make([]T, len(in))
	for i, x := range in {
		out[i] = conv(x)
	}
	return out
}

// eachInt calls fn for each element of an integer array: i holds the value,
// or, when big is true, u holds a uint64 above math.MaxInt64.
func eachInt(v Value, fn func(i int64, u uint64, big bool) error) error {
	var err error
	each := func(n int, at func(int) int64) {
		for k := 0; k < n && err == nil; k++ {
			err = fn(at(k), 0, false)
		}
	}
	switch a := v.V.(type) {
	case []uint8:
		each(len(a), func(k int) int64 { return int64(a[k]) })
	case []int8:
		each(len(a), func(k int) int64 { return int64(a[k]) })
	case []uint16:
		each(len(a), func(k int) int64 { return int64(a[k]) })
	case []int16:
		each(len(a), func(k int) int64 { return int64(a[k]) })
	case []uint32:
		each(len(a), func(k int) int64 { return int64(a[k]) })
	case []int32:
		each(len(a), func(k int) int64 { return int64(a[k]) })
	case []int64:
		each(len(a), func(k int) int64 { return a[k] })
	case []uint64:
		for _, x := range a {
			if x > math.MaxInt64 {
				err = fn(0, x, true)
			} else {
				err = fn(int64(x), 0, false)
			}
			if err != nil {
				break
			}
		}
	default:
		return fmt.Errorf("gguf: value of type %s is not an integer array", v.TypeName())
	}
	return err
}
