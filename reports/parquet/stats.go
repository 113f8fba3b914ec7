package parquet

import (
	"encoding/binary"
	"math"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// colStats gathers a column chunk's min and max from the min and max of
// its PLAIN segments and of its dictionary, as arrow-go's typed statistics
// did: integers signed, strings byte-wise, false before true, floats
// without NaN and with a zero min written as -0 and a zero max as +0 (so
// that a reader's "x > max" or "x < min" test keeps every zero).
type colStats struct {
	has    bool
	lo, hi uint64 // int64 or float64 bits, or a bool as 0 or 1
	slo    string
	shi    string
}

func (s *colStats) int64s(lo, hi int64) {
	if !s.has {
		s.has, s.lo, s.hi = true, uint64(lo), uint64(hi)
		return
	}
	s.lo, s.hi = uint64(min(int64(s.lo), lo)), uint64(max(int64(s.hi), hi))
}

func (s *colStats) float64s(lo, hi float64) {
	if lo != lo || hi != hi || lo > hi {
		return
	}
	if lo == 0 {
		lo = math.Copysign(0, -1)
	}
	if hi == 0 {
		hi = 0
	}
	if !s.has {
		s.has, s.lo, s.hi = true, math.Float64bits(lo), math.Float64bits(hi)
		return
	}
	if lo <= math.Float64frombits(s.lo) {
		s.lo = math.Float64bits(lo)
	}
	if hi > math.Float64frombits(s.hi) {
		s.hi = math.Float64bits(hi)
	}
}

func (s *colStats) bools(lo, hi bool) {
	l, h := uint64(b2u(lo)), uint64(b2u(hi))
	if !s.has {
		s.has, s.lo, s.hi = true, l, h
		return
	}
	s.lo, s.hi = min(s.lo, l), max(s.hi, h)
}

func (s *colStats) strings(lo, hi string) {
	if !s.has {
		s.has, s.slo, s.shi = true, lo, hi
		return
	}
	s.slo, s.shi = min(s.slo, lo), max(s.shi, hi)
}

// encode returns the statistics of a chunk of kind k with nulls nulls:
// min and max PLAIN-encoded, each left out when longer than maxStatBytes.
func (s *colStats) encode(k reports.Kind, nulls int64) chunkStats {
	st := chunkStats{nullCount: nulls}
	if !s.has {
		return st
	}
	switch k {
	case reports.KindString:
		if len(s.slo) <= maxStatBytes {
			st.min = append(make([]byte, 0, len(s.slo)), s.slo...)
		}
		if len(s.shi) <= maxStatBytes {
			st.max = append(make([]byte, 0, len(s.shi)), s.shi...)
		}
	case reports.KindBool:
		st.min, st.max = []byte{byte(s.lo)}, []byte{byte(s.hi)}
	default:
		b := make([]byte, 16)
		binary.LittleEndian.PutUint64(b, s.lo)
		binary.LittleEndian.PutUint64(b[8:], s.hi)
		st.min, st.max = b[:8:8], b[8:]
	}
	return st
}
