package xlsx

import (
	"archive/zip"
	"bytes"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/flate"
)

// spliceZip is the zip writer excelize writes the workbook through: entries
// are deflated at the fastest level, and the entry named sheet gets the
// already deflated rows just before its </sheetData>.
//
// That entry is written raw: excelize's part of the XML before the rows is
// deflated and sync-flushed, the rows' blocks follow as they are, then the
// rest is deflated to the final block: one valid deflate stream (RFC 1951
// blocks carry no state across a flush apart from the 32 KiB window, and a
// new compressor refers to none of it). Its CRC-32 joins the three parts'
// (crc32Combine); sizes and CRC go in the data descriptor after the data,
// as archive/zip does for its own entries.
type spliceZip struct {
	*zip.Writer
	sheet   string
	rows    *deflated
	open    *splicer // the sheet's entry while excelize writes it
	spliced bool
}

// newSpliceZip returns a zip writer on w; with rows nil it only compresses.
// klauspost/compress's deflate at level 1 runs several times faster than
// compress/flate's BestSpeed on sheet XML, for files a few percent larger.
func newSpliceZip(w io.Writer, sheet string, rows *deflated) *spliceZip {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	return &spliceZip{Writer: zw, sheet: sheet, rows: rows}
}

// Create starts an entry; the sheet's entry splices the rows in.
func (z *spliceZip) Create(name string) (io.Writer, error) {
	if err := z.closeSheet(); err != nil {
		return nil, err
	}
	if z.rows == nil || name != z.sheet {
		return z.Writer.Create(name)
	}
	if z.spliced {
		return nil, fmt.Errorf("xlsx: %s written twice", name)
	}
	fh := &zip.FileHeader{Name: name, Method: zip.Deflate, Flags: 0x8, // sizes in a data descriptor
		CreatorVersion: 20, ReaderVersion: 20} // as Create sets them (zip 2.0)
	w, err := z.Writer.CreateRaw(fh)
	if err != nil {
		return nil, err
	}
	out := &countWriter{w: w}
	fw, err := flate.NewWriter(out, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	z.open = &splicer{z: z, fh: fh, out: out, fw: fw}
	return z.open, nil
}

// Close finishes the last entry and the archive.
func (z *spliceZip) Close() error {
	if err := z.closeSheet(); err != nil {
		return err
	}
	return z.Writer.Close()
}

// check reports a sheet whose rows did not go in.
func (z *spliceZip) check() error {
	if z.rows != nil && !z.spliced {
		return fmt.Errorf("xlsx: sheet %s not found in the workbook; its rows were not written", z.sheet)
	}
	return nil
}

func (z *spliceZip) closeSheet() error {
	s := z.open
	if s == nil {
		return nil
	}
	z.open = nil
	if !z.spliced {
		return fmt.Errorf("xlsx: sheet %s has no </sheetData>", z.sheet)
	}
	if err := s.fw.Close(); err != nil {
		return err
	}
	s.fh.CRC32 = s.crc
	s.fh.CompressedSize64 = uint64(s.out.n)
	s.fh.UncompressedSize64 = uint64(s.size)
	s.fh.CompressedSize = uint32(min(s.out.n, 1<<32-1))
	s.fh.UncompressedSize = uint32(min(s.size, 1<<32-1))
	if s.size >= 1<<32-1 || s.out.n >= 1<<32-1 {
		s.fh.ReaderVersion = 45 // zip64, as archive/zip marks its own
	}
	return nil
}

var endSheetData = []byte("</sheetData>")

// splicer deflates the sheet's XML, holding back only what could be the
// start of </sheetData>, and puts the rows in front of it.
type splicer struct {
	z    *spliceZip
	fh   *zip.FileHeader
	out  *countWriter
	fw   *flate.Writer
	held []byte
	crc  uint32
	size int64
}

func (s *splicer) write(p []byte) error {
	s.crc = crc32.Update(s.crc, crc32.IEEETable, p)
	s.size += int64(len(p))
	_, err := s.fw.Write(p)
	return err
}

func (s *splicer) Write(p []byte) (int, error) {
	if s.z.spliced {
		return len(p), s.write(p)
	}
	s.held = append(s.held, p...)
	i := bytes.Index(s.held, endSheetData)
	if i < 0 {
		// Keep the last len(</sheetData>)-1 bytes; the rest cannot hold it.
		n := len(s.held) - min(len(s.held), len(endSheetData)-1)
		if err := s.write(s.held[:n]); err != nil {
			return 0, err
		}
		s.held = append(s.held[:0], s.held[n:]...)
		return len(p), nil
	}
	if err := s.write(s.held[:i]); err != nil {
		return 0, err
	}
	if err := s.fw.Flush(); err != nil {
		return 0, err
	}
	rows := s.z.rows
	if n, err := io.Copy(s.out, rows.r); err != nil {
		return 0, fmt.Errorf("copy sweep rows: %w", err)
	} else if n != rows.raw {
		return 0, fmt.Errorf("copy sweep rows: %d of %d bytes", n, rows.raw)
	}
	s.crc = crc32Combine(s.crc, rows.crc, rows.size)
	s.size += rows.size
	s.z.spliced = true
	// The rest is a new deflate stream after the rows' flushed blocks.
	s.fw.Reset(s.out)
	err := s.write(s.held[i:])
	s.held = nil
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// crc32Combine returns the CRC-32 (IEEE) of A followed by B from the CRCs
// of A and B and B's length: crc(A‖B) = crc(A)·x^(8·len B) + crc(B) mod P,
// in GF(2) (zlib's crc32_combine, crc32.c, by Mark Adler).
func crc32Combine(crcA, crcB uint32, lenB int64) uint32 {
	// Bit-reflected, as hash/crc32 computes: bit 31 is x^0.
	p := uint32(1) << 31  // x^0
	sq := uint32(1) << 23 // x^8: one byte
	for n := lenB; n > 0; n >>= 1 {
		if n&1 != 0 {
			p = mulModP(sq, p)
		}
		sq = mulModP(sq, sq)
	}
	return mulModP(p, crcA) ^ crcB
}

// mulModP multiplies two bit-reflected polynomials modulo the CRC-32
// polynomial.
func mulModP(a, b uint32) uint32 {
	var p uint32
	for m := uint32(1) << 31; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		if b&1 != 0 {
			b = b>>1 ^ crc32.IEEE
		} else {
			b >>= 1
		}
	}
	return p
}
