package gguf

import (
	"fmt"
	"strconv"
)

// ValueType is the type of a metadata value, numbered as in GGUF.
type ValueType uint32

// The metadata value types.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var typeNames = [...]string{
	TypeUint8:   "uint8",
	TypeInt8:    "int8",
	TypeUint16:  "uint16",
	TypeInt16:   "int16",
	TypeUint32:  "uint32",
	TypeInt32:   "int32",
	TypeFloat32: "float32",
	TypeBool:    "bool",
	TypeString:  "string",
	TypeArray:   "array",
	TypeUint64:  "uint64",
	TypeInt64:   "int64",
	TypeFloat64: "float64",
}

// fixedSizes gives the encoded size of the fixed-size types (0 otherwise).
var fixedSizes = [...]int{
	TypeUint8: 1, TypeInt8: 1, TypeUint16: 2, TypeInt16: 2, TypeUint32: 4, TypeInt32: 4,
	TypeFloat32: 4, TypeBool: 1, TypeUint64: 8, TypeInt64: 8, TypeFloat64: 8,
}

// String returns the type's name ("uint32", "string", "array"), or
// "type(N)" for an unknown number.
func (t ValueType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "type(" + strconv.FormatUint(uint64(t), 10) + ")"
}

// Valid reports whether t is one of the GGUF value types.
func (t ValueType) Valid() bool { return t <= TypeFloat64 }

// fixedSize returns the encoded size of a scalar of type t, or 0 for
// strings, arrays and unknown types.
func (t ValueType) fixedSize() int {
	if int(t) < len(fixedSizes) {
		return fixedSizes[t]
	}
	return 0
}

// IsInteger reports whether t is one of the eight integer types.
func (t ValueType) IsInteger() bool {
	switch t {
	case TypeUint8, TypeInt8, TypeUint16, TypeInt16, TypeUint32, TypeInt32, TypeUint64, TypeInt64:
		return true
	}
	return false
}

// Value is one metadata value.
type Value struct {
	Type     ValueType
	ElemType ValueType // for arrays: the element type
	// V holds uint8, int8, uint16, int16, uint32, int32, float32, bool,
	// string, uint64, int64 or float64 for scalars; for arrays a typed
	// slice ([]uint8 ... []float64, []bool, []string), or []Value (each of
	// Type TypeArray) for arrays of arrays.
	V any
}

// TypeName spells the value's type: "uint32", "string", "array[string]",
// "array[array[int32]]". An array of arrays spells its elements' type when
// they all share one, and is "array[array]" when it is empty or they differ.
func (v Value) TypeName() string {
	if v.Type != TypeArray {
		return v.Type.String()
	}
	if v.ElemType != TypeArray {
		return "array[" + v.ElemType.String() + "]"
	}
	vs, ok := v.V.([]Value)
	if !ok || len(vs) == 0 {
		return "array[array]"
	}
	inner := vs[0].TypeName()
	for _, e := range vs[1:] {
		if e.TypeName() != inner {
			return "array[array]"
		}
	}
	return "array[" + inner + "]"
}

// Len returns the number of elements of an array value (0 for scalars or a
// V of the wrong kind).
func (v Value) Len() int {
	switch a := v.V.(type) {
	case []uint8:
		return len(a)
	case []int8:
		return len(a)
	case []uint16:
		return len(a)
	case []int16:
		return len(a)
	case []uint32:
		return len(a)
	case []int32:
		return len(a)
	case []float32:
		return len(a)
	case []bool:
		return len(a)
	case []string:
		return len(a)
	case []uint64:
		return len(a)
	case []int64:
		return len(a)
	case []float64:
		return len(a)
	case []Value:
		return len(a)
	}
	return 0
}

// ValueOf builds a Value from a Go value of one of the types V may hold
// (uint8 ... float64, bool, string, their slices, or []Value of arrays).
func ValueOf(x any) (Value, error) {
	switch x := x.(type) {
	case uint8:
		return Value{Type: TypeUint8, V: x}, nil
	case int8:
		return Value{Type: TypeInt8, V: x}, nil
	case uint16:
		return Value{Type: TypeUint16, V: x}, nil
	case int16:
		return Value{Type: TypeInt16, V: x}, nil
	case uint32:
		return Value{Type: TypeUint32, V: x}, nil
	case int32:
		return Value{Type: TypeInt32, V: x}, nil
	case float32:
		return Value{Type: TypeFloat32, V: x}, nil
	case bool:
		return Value{Type: TypeBool, V: x}, nil
	case string:
		return Value{Type: TypeString, V: x}, nil
	case uint64:
		return Value{Type: TypeUint64, V: x}, nil
	case int64:
		return Value{Type: TypeInt64, V: x}, nil
	case float64:
		return Value{Type: TypeFloat64, V: x}, nil
	case []uint8:
		return Value{Type: TypeArray, ElemType: TypeUint8, V: x}, nil
	case []int8:
		return Value{Type: TypeArray, ElemType: TypeInt8, V: x}, nil
	case []uint16:
		return Value{Type: TypeArray, ElemType: TypeUint16, V: x}, nil
	case []int16:
		return Value{Type: TypeArray, ElemType: TypeInt16, V: x}, nil
	case []uint32:
		return Value{Type: TypeArray, ElemType: TypeUint32, V: x}, nil
	case []int32:
		return Value{Type: TypeArray, ElemType: TypeInt32, V: x}, nil
	case []float32:
		return Value{Type: TypeArray, ElemType: TypeFloat32, V: x}, nil
	case []bool:
		return Value{Type: TypeArray, ElemType: TypeBool, V: x}, nil
	case []string:
		return Value{Type: TypeArray, ElemType: TypeString, V: x}, nil
	case []uint64:
		return Value{Type: TypeArray, ElemType: TypeUint64, V: x}, nil
	case []int64:
		return Value{Type: TypeArray, ElemType: TypeInt64, V: x}, nil
	case []float64:
		return Value{Type: TypeArray, ElemType: TypeFloat64, V: x}, nil
	case []Value:
		for i, e := range x {
			if e.Type != TypeArray {
				return Value{}, fmt.Errorf("gguf: ValueOf: element %d of []Value is %s, want an array", i, e.Type)
			}
		}
		return Value{Type: TypeArray, ElemType: TypeArray, V: x}, nil
	}
	return Value{}, fmt.Errorf("gguf: ValueOf: unsupported Go type %T", x)
}

// MustValueOf is like ValueOf but panics on an unsupported type; for use
// with constant arguments in program code.
func MustValueOf(x any) Value {
	v, err := ValueOf(x)
	if err != nil {
		panic(err)
	}
	return v
}

// KV is one metadata key-value pair.
type KV struct {
	Key   string
	Value Value
}
