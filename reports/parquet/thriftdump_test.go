package parquet

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/apache/thrift/lib/go/thrift"
)

// thriftTree decodes one compact-protocol struct at the start of b without
// knowing its schema and returns it as lines "path = value" (path: field
// ids, list indices in brackets), and the bytes it took: a field-by-field
// view of a footer or page header that two writers' outputs can be
// compared with.
func thriftTree(b []byte) (lines []string, n int, err error) {
	r := &thrift.TMemoryBuffer{Buffer: bytes.NewBuffer(b)}
	p := thrift.NewTCompactProtocolConf(r, &thrift.TConfiguration{})
	var walk func(path string, t thrift.TType) error
	walk = func(path string, t thrift.TType) error {
		c := context.Background()
		add := func(v any, err error) error {
			if err == nil {
				lines = append(lines, fmt.Sprintf("%s = %v", path, v))
			}
			return err
		}
		switch t {
		case thrift.BOOL:
			return add(p.ReadBool(c))
		case thrift.BYTE:
			return add(p.ReadByte(c))
		case thrift.I16:
			return add(p.ReadI16(c))
		case thrift.I32:
			return add(p.ReadI32(c))
		case thrift.I64:
			return add(p.ReadI64(c))
		case thrift.DOUBLE:
			return add(p.ReadDouble(c))
		case thrift.STRING:
			v, err := p.ReadBinary(c)
			return add(fmt.Sprintf("%q", v), err)
		case thrift.LIST, thrift.SET:
			et, size, err := p.ReadListBegin(c)
			if err != nil {
				return err
			}
			lines = append(lines, fmt.Sprintf("%s = list<%v>[%d]", path, et, size))
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
			lines = append(lines, path+" = struct")
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
		}
		return fmt.Errorf("%s: unexpected thrift type %v", path, t)
	}
	err = walk("", thrift.STRUCT)
	return lines, len(b) - r.Len(), err
}

// thriftDiff lists the lines where two trees differ.
func thriftDiff(got, want []string) string {
	var d strings.Builder
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			fmt.Fprintf(&d, "line %d: got %q, want %q\n", i, g, w)
			if d.Len() > 4000 {
				break
			}
		}
	}
	return d.String()
}
