package parquet

import (
	"context"
	"errors"

	"github.com/apache/thrift/lib/go/thrift"
)

// compactWriter serialises Thrift structs with Apache Thrift's compact
// protocol (TCompactProtocol, the encoding of every Parquet page header and
// footer), appending straight to a byte slice: a struct's fields are
// written by the helpers below, in field-id order, and the first error is
// kept (appending to memory cannot fail, so there is none in practice).
type compactWriter struct {
	out   sliceTransport
	proto *thrift.TCompactProtocol
	err   error
}

func newCompactWriter() *compactWriter {
	w := &compactWriter{}
	w.proto = thrift.NewTCompactProtocolConf(&w.out, &thrift.TConfiguration{})
	return w
}

// bg is what the protocol's methods take; the compact protocol ignores it.
var bg = context.Background()

// start makes dst the slice that the next structs are appended to.
func (w *compactWriter) start(dst []byte) { w.out.b, w.err = dst, nil }

// done returns the slice with what was appended and the first error.
func (w *compactWriter) done() ([]byte, error) {
	b := w.out.b
	w.out.b = nil
	return b, w.err
}

func (w *compactWriter) check(err error) {
	if err != nil && w.err == nil {
		w.err = err
	}
}

// beginStruct starts a struct: the file's top-level one, or a list element.
func (w *compactWriter) beginStruct() { w.check(w.proto.WriteStructBegin(bg, "")) }

// endStruct writes the stop field of a struct begun with beginStruct.
func (w *compactWriter) endStruct() {
	w.check(w.proto.WriteFieldStop(bg))
	w.check(w.proto.WriteStructEnd(bg))
}

// structField starts field id holding a struct; end it with endStruct.
func (w *compactWriter) structField(id int16) {
	w.check(w.proto.WriteFieldBegin(bg, "", thrift.STRUCT, id))
	w.beginStruct()
}

// emptyStruct writes field id as a struct without fields.
func (w *compactWriter) emptyStruct(id int16) {
	w.structField(id)
	w.endStruct()
}

func (w *compactWriter) i16(id int16, v int16) {
	w.check(w.proto.WriteFieldBegin(bg, "", thrift.I16, id))
	w.check(w.proto.WriteI16(bg, v))
}

func (w *compactWriter) i32(id int16, v int32) {
	w.check(w.proto.WriteFieldBegin(bg, "", thrift.I32, id))
	w.check(w.proto.WriteI32(bg, v))
}

func (w *compactWriter) i64(id int16, v int64) {
	w.check(w.proto.WriteFieldBegin(bg, "", thrift.I64, id))
	w.check(w.proto.WriteI64(bg, v))
}

func (w *compactWriter) boolean(id int16, v bool) {
	w.check(w.proto.WriteFieldBegin(bg, "", thrift.BOOL, id))
	w.check(w.proto.WriteBool(bg, v))
}

func (w *compactWriter) binary(id int16, v []byte) {
	w.check(w.proto.WriteFieldBegin(bg, "", thrift.STRING, id))
	w.check(w.proto.WriteBinary(bg, v))
}

func (w *compactWriter) str(id int16, v string) {
	w.check(w.proto.WriteFieldBegin(bg, "", thrift.STRING, id))
	w.check(w.proto.WriteString(bg, v))
}

// list starts field id as a list of n elements of type elem, written next
// with the *Elem helpers (or beginStruct … endStruct each).
func (w *compactWriter) list(id int16, elem thrift.TType, n int) {
	w.check(w.proto.WriteFieldBegin(bg, "", thrift.LIST, id))
	w.check(w.proto.WriteListBegin(bg, elem, n))
}

func (w *compactWriter) i32Elem(v int32)  { w.check(w.proto.WriteI32(bg, v)) }
func (w *compactWriter) strElem(v string) { w.check(w.proto.WriteString(bg, v)) }

// sliceTransport is a Thrift transport that appends what is written to a
// slice; it cannot be read.
type sliceTransport struct{ b []byte }

var errWriteOnly = errors.New("parquet: thrift transport is write-only")

func (t *sliceTransport) Write(p []byte) (int, error) { t.b = append(t.b, p...); return len(p), nil }
func (t *sliceTransport) WriteByte(c byte) error      { t.b = append(t.b, c); return nil }
func (t *sliceTransport) WriteString(s string) (int, error) {
	t.b = append(t.b, s...)
	return len(s), nil
}
func (t *sliceTransport) Read([]byte) (int, error)    { return 0, errWriteOnly }
func (t *sliceTransport) ReadByte() (byte, error)     { return 0, errWriteOnly }
func (t *sliceTransport) Flush(context.Context) error { return nil }
func (t *sliceTransport) RemainingBytes() uint64      { return 0 }
func (t *sliceTransport) Close() error                { return nil }
func (t *sliceTransport) IsOpen() bool                { return true }
func (t *sliceTransport) Open() error                 { return nil }

var _ thrift.TRichTransport = (*sliceTransport)(nil)
var _ thrift.TTransport = (*sliceTransport)(nil)
