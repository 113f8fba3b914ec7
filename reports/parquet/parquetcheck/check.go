// Package parquetcheck is test support for reports/parquet, which frames
// its files itself: Framing rebuilds every page header of a file with
// arrow-go's page writer (parquet/file) and its footer with arrow-go's
// metadata builders (parquet/metadata), from the file's own pages and
// values, as reports/parquet did before it wrote them itself, and
// requires the same bytes. Only tests import it, so the binary does not
// link arrow-go's parquet/file, parquet/metadata or arrow/compute.
package parquetcheck

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// maxStatBytes is the longest min or max arrow-go's writer keeps.
const maxStatBytes = 4096

// Framing checks data, a whole Parquet file whose dictionary pages were
// compressed at level (zstd's; other codecs ignore it): its column chunks
// tile the file, page after page, from the leading magic number to the
// footer; every page header is the one arrow-go's page writer writes for
// the page; and the footer is the one arrow-go's metadata builders make
// from the pages found and the values read back (statistics by arrow-go's
// typed statistics, signed, min and max over 4096 bytes left out; column
// encodings and encoding statistics in the order reports/parquet lists
// them).
func Framing(data []byte, level int) error {
	if len(data) < 12 || string(data[:4]) != "PAR1" || string(data[len(data)-4:]) != "PAR1" {
		return errors.New("not a Parquet file")
	}
	footEnd := len(data) - 8
	footStart := footEnd - int(binary.LittleEndian.Uint32(data[footEnd:]))
	r, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	defer r.Close()
	md := r.MetaData()
	if md.NumRowGroups() == 0 {
		return errors.New("no row groups") // nothing to take a codec from
	}
	c0, err := md.RowGroup(0).ColumnChunk(0)
	if err != nil {
		return err
	}
	codec := c0.Compression()
	kv := metadata.KeyValueMetadata{}
	for _, k := range md.KeyValueMetadata().Keys() {
		if err := kv.Append(k, *md.KeyValueMetadata().FindValue(k)); err != nil {
			return err
		}
	}
	props := pq.NewWriterProperties(pq.WithCreatedBy(md.GetCreatedBy()), pq.WithCompression(codec),
		pq.WithCompressionLevel(level), pq.WithDictionaryDefault(false), pq.WithStats(true))
	fmb := metadata.NewFileMetadataBuilder(md.Schema, props, kv)
	pos := int64(4)
	for g := range md.NumRowGroups() {
		rg := md.RowGroup(g)
		rgb := fmb.AppendRowGroup()
		for i := range md.Schema.NumColumns() {
			cc, err := rg.ColumnChunk(i)
			if err != nil {
				return err
			}
			name := md.Schema.Column(i).Name()
			if cc.Compression() != codec {
				return fmt.Errorf("group %d column %s: codec %v, want %v as the first chunk", g, name, cc.Compression(), codec)
			}
			info, enc, err := pages(data, pos, cc.TotalCompressedSize(), codec, level)
			if err != nil {
				return fmt.Errorf("group %d column %s at %d: %w", g, name, pos, err)
			}
			pos += info.CompressedSize
			st, err := stats(r, g, i)
			if err != nil {
				return fmt.Errorf("group %d column %s: %w", g, name, err)
			}
			cb := rgb.NextColumnChunk()
			cb.SetStats(st)
			hasDict := info.DictPageOffset > 0
			if err := cb.Finish(info, hasDict, false, enc); err != nil {
				return err
			}
			m := cb.Contents().MetaData
			sort.Slice(m.EncodingStats, func(a, b int) bool {
				x, y := m.EncodingStats[a], m.EncodingStats[b]
				if x.PageType != y.PageType {
					return x.PageType < y.PageType
				}
				return x.Encoding < y.Encoding
			})
			// The chunk's encodings: the dictionary page's and its
			// indices', the levels', then PLAIN or BYTE_STREAM_SPLIT for
			// pages without a dictionary.
			m.Encodings = m.Encodings[:0]
			if hasDict {
				m.Encodings = append(m.Encodings, 0, 8) // PLAIN, RLE_DICTIONARY
			}
			m.Encodings = append(m.Encodings, 3) // RLE
			if enc.DataEncodingStats[pq.Encodings.Plain] > 0 && !hasDict {
				m.Encodings = append(m.Encodings, 0)
			}
			if enc.DataEncodingStats[pq.Encodings.ByteStreamSplit] > 0 {
				m.Encodings = append(m.Encodings, 9)
			}
		}
		rgb.SetNumRows(int(rg.NumRows()))
		if err := rgb.Finish(0, int16(g)); err != nil {
			return err
		}
	}
	if pos != int64(footStart) {
		return fmt.Errorf("column chunks end at %d, the footer starts at %d", pos, footStart)
	}
	fm, err := fmb.Finish()
	if err != nil {
		return err
	}
	var want bytes.Buffer
	if _, err := fm.WriteTo(&want, nil); err != nil {
		return err
	}
	if got := data[footStart:footEnd]; !bytes.Equal(got, want.Bytes()) {
		return fmt.Errorf("footer (%d bytes) differs from arrow-go's (%d bytes):\n%s", len(got), want.Len(), treeDiff(got, want.Bytes()))
	}
	return nil
}

func treeDiff(got, want []byte) string {
	g, _, err := Tree(got)
	if err != nil {
		return fmt.Sprintf("  undecodable: %v", err)
	}
	w, _, err := Tree(want)
	if err != nil {
		return fmt.Sprintf("  arrow-go's undecodable: %v", err)
	}
	if d := Diff(g, w); d != "" {
		return d
	}
	return "  same fields, different bytes"
}

// tellBuffer is a page writer's sink.
type tellBuffer struct{ bytes.Buffer }

func (t *tellBuffer) Tell() int64 { return int64(t.Len()) }

// pages walks the pages of the chunk of size bytes at pos, re-framing each
// with arrow-go's page writer, and returns what arrow-go's column chunk
// builder is told of the chunk.
func pages(data []byte, pos, size int64, codec compress.Compression, level int) (metadata.ChunkMetaInfo, metadata.EncodingStats, error) {
	info := metadata.ChunkMetaInfo{IndexPageOffset: -1, CompressedSize: size}
	enc := metadata.EncodingStats{DictEncodingStats: map[pq.Encoding]int32{}, DataEncodingStats: map[pq.Encoding]int32{}}
	dec, err := compress.GetCodec(codec)
	if err != nil {
		return info, enc, err
	}
	end := pos + size
	if end > int64(len(data)) || size <= 0 {
		return info, enc, fmt.Errorf("chunk of %d bytes runs past the file", size)
	}
	for p := pos; p < end; {
		h, n, err := Tree(data[p:end])
		if err != nil {
			return info, enc, fmt.Errorf("page header at %d: %w", p, err)
		}
		typ, raw, comp := get(h, ".1"), get(h, ".2"), get(h, ".3")
		body := p + int64(n)
		if comp < 0 || raw < 0 || body+comp > end {
			return info, enc, fmt.Errorf("page at %d: sizes %d, %d outside the chunk", p, raw, comp)
		}
		page := data[body : body+comp]
		plain := page
		if codec != compress.Codecs.Uncompressed {
			plain = dec.Decode(make([]byte, raw), page)
		}
		if int64(len(plain)) != raw {
			return info, enc, fmt.Errorf("page at %d: %d bytes uncompressed, header says %d", p, len(plain), raw)
		}
		sink := &tellBuffer{}
		pw, err := file.NewPageWriter(sink, codec, level, nil, 0, 0, memory.DefaultAllocator, false, nil, nil)
		if err != nil {
			return info, enc, err
		}
		switch typ {
		case 2: // DICTIONARY_PAGE
			if p != pos {
				return info, enc, fmt.Errorf("dictionary page at %d, not first", p)
			}
			info.DictPageOffset = p
			e := pq.Encoding(get(h, ".7.2"))
			enc.DictEncodingStats[e]++
			dp := file.NewDictionaryPage(memory.NewBufferBytes(plain), int32(get(h, ".7.1")), e)
			_, err = pw.WriteDictionaryPage(dp)
		case 0: // DATA_PAGE
			if info.DataPageOffset == 0 {
				info.DataPageOffset = p
			}
			e := pq.Encoding(get(h, ".5.2"))
			enc.DataEncodingStats[e]++
			info.NumValues += get(h, ".5.1")
			dp := file.NewDataPageV1(memory.NewBufferBytes(page), int32(get(h, ".5.1")), e, pq.Encoding(get(h, ".5.3")), pq.Encoding(get(h, ".5.4")), int32(raw))
			_, err = pw.WriteDataPage(dp)
		default:
			return info, enc, fmt.Errorf("page at %d: type %d", p, typ)
		}
		if err != nil {
			return info, enc, err
		}
		if got := data[p : body+comp]; !bytes.Equal(got, sink.Bytes()) {
			return info, enc, fmt.Errorf("page at %d (%d bytes) differs from arrow-go's (%d bytes):\n%s", p, len(got), sink.Len(), treeDiff(got, sink.Bytes()))
		}
		info.UncompressedSize += int64(n) + raw
		p = body + comp
	}
	return info, enc, nil
}

// stats reads column i of row group g back and returns arrow-go's
// statistics of its values, as the footer stores them.
func stats(r *file.Reader, g, i int) (metadata.EncodedStatistics, error) {
	var enc metadata.EncodedStatistics
	cr, err := r.RowGroup(g).Column(i)
	if err != nil {
		return enc, err
	}
	st := metadata.NewStatistics(r.MetaData().Schema.Column(i), memory.DefaultAllocator)
	st.IncNulls(0)
	const batch = 4096
	defs := make([]int16, batch)
	for {
		var total int64
		var n int
		switch cr := cr.(type) {
		case *file.Int64ColumnChunkReader:
			v := make([]int64, batch)
			total, n, err = cr.ReadBatch(batch, v, defs, nil)
			st.(*metadata.Int64Statistics).Update(v[:n], total-int64(n))
		case *file.Float64ColumnChunkReader:
			v := make([]float64, batch)
			total, n, err = cr.ReadBatch(batch, v, defs, nil)
			st.(*metadata.Float64Statistics).Update(v[:n], total-int64(n))
		case *file.BooleanColumnChunkReader:
			v := make([]bool, batch)
			total, n, err = cr.ReadBatch(batch, v, defs, nil)
			st.(*metadata.BooleanStatistics).Update(v[:n], total-int64(n))
		case *file.ByteArrayColumnChunkReader:
			v := make([]pq.ByteArray, batch)
			total, n, err = cr.ReadBatch(batch, v, defs, nil)
			// One value at a time: Update's min and max take an empty
			// string for no value.
			s := st.(*metadata.ByteArrayStatistics)
			for _, x := range v[:n] {
				s.SetMinMax(x, x)
			}
			s.IncNulls(total - int64(n))
			s.IncNumValues(int64(n))
		default:
			return enc, fmt.Errorf("unexpected column reader %T", cr)
		}
		if err != nil {
			return enc, err
		}
		if total == 0 {
			break
		}
	}
	if enc, err = st.Encode(); err != nil {
		return enc, err
	}
	enc.ApplyStatSizeLimits(maxStatBytes)
	enc.Signed = true
	return enc, nil
}
