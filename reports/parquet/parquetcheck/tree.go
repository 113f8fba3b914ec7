package parquetcheck

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/apache/thrift/lib/go/thrift"
)

// Field is one value of a decoded Thrift struct: its path of field ids
// (".4[0].1" is field 1 of the first element of list field 4) and value:
// int64 for every integer, bool, float64, string for binaries, or the
// type's name for a struct or list (whose members follow).
type Field struct {
	Path  string
	Value any
}

func (f Field) String() string {
	if s, ok := f.Value.(string); ok && len(s) > 40 {
		return fmt.Sprintf("%s = %q… (%d bytes)", f.Path, s[:40], len(s))
	}
	return fmt.Sprintf("%s = %v", f.Path, f.Value)
}

// Tree decodes one compact-protocol struct at the start of b without its
// schema, and returns its fields in wire order and the bytes it took.
func Tree(b []byte) (fields []Field, n int, err error) {
	r := &thrift.TMemoryBuffer{Buffer: bytes.NewBuffer(b)}
	p := thrift.NewTCompactProtocolConf(r, &thrift.TConfiguration{})
	c := context.Background()
	var walk func(path string, t thrift.TType) error
	walk = func(path string, t thrift.TType) error {
		var v any
		var err error
		switch t {
		case thrift.BOOL:
			v, err = p.ReadBool(c)
		case thrift.BYTE:
			var x int8
			x, err = p.ReadByte(c)
			v = int64(x)
		case thrift.I16:
			var x int16
			x, err = p.ReadI16(c)
			v = int64(x)
		case thrift.I32:
			var x int32
			x, err = p.ReadI32(c)
			v = int64(x)
		case thrift.I64:
			v, err = p.ReadI64(c)
		case thrift.DOUBLE:
			v, err = p.ReadDouble(c)
		case thrift.STRING:
			var x []byte
			x, err = p.ReadBinary(c)
			v = string(x)
		case thrift.LIST, thrift.SET:
			et, size, err := p.ReadListBegin(c)
			if err != nil {
				return err
			}
			fields = append(fields, Field{path, fmt.Sprintf("list<%v>[%d]", et, size)})
			for i := range size {
				if err := walk(fmt.Sprintf("%s[%d]", path, i), et); err != nil {
					return err
				}
			}
			return p.ReadListEnd(c)
		case thrift.STRUCT:
			if _, err := p.ReadStructBegin(c); err != nil {
				return err
			}
			fields = append(fields, Field{path, "struct"})
			for {
				_, ft, id, err := p.ReadFieldBegin(c)
				if err != nil {
					return err
				}
				if ft == thrift.STOP {
					break
				}
				if err := walk(fmt.Sprintf("%s.%d", path, id), ft); err != nil {
					return err
				}
			}
			return p.ReadStructEnd(c)
		default:
			return fmt.Errorf("%s: unexpected thrift type %v", path, t)
		}
		if err == nil {
			fields = append(fields, Field{path, v})
		}
		return err
	}
	err = walk("", thrift.STRUCT)
	return fields, len(b) - r.Len(), err
}

// Diff describes where two trees differ (at most a few dozen lines), or
// returns "" when they are the same.
func Diff(got, want []Field) string {
	var d strings.Builder
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i].String()
		}
		if i < len(want) {
			w = want[i].String()
		}
		if g != w {
			fmt.Fprintf(&d, "  field %d: got %q, want %q\n", i, g, w)
			if d.Len() > 3000 {
				d.WriteString("  …\n")
				break
			}
		}
	}
	return d.String()
}

// get returns the integer at path, or -1.
func get(fields []Field, path string) int64 {
	for _, f := range fields {
		if f.Path == path {
			if v, ok := f.Value.(int64); ok {
				return v
			}
		}
	}
	return -1
}
