package calibrate

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestSSEReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
		err  error
	}{
		{"vllm stream", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []string{`{"a":1}`, "[DONE]"}, io.EOF},
		{"crlf and comments", ": ping\r\n\r\ndata: x\r\n\r\n", []string{"x"}, io.EOF},
		{"multi-line data is joined", "data: a\ndata: b\n\n", []string{"a\nb"}, io.EOF},
		{"other fields ignored", "event: message\nid: 3\ndata:no-space\n\n", []string{"no-space"}, io.EOF},
		{"cut inside an event", "data: {\"a\":1}\n\ndata: {\"b\"", []string{`{"a":1}`}, io.ErrUnexpectedEOF},
		{"empty stream", "", nil, io.EOF},
		{"too long line", "data: " + strings.Repeat("x", maxSSELine+10) + "\n\n", nil, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewSSEReader(strings.NewReader(tc.in))
			var got []string
			for {
				d, err := r.Next()
				if err != nil {
					if !errors.Is(err, tc.err) {
						t.Errorf("err = %v, want %v", err, tc.err)
					}
					break
				}
				got = append(got, string(d))
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("events %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzSSEReader(f *testing.F) {
	f.Add("data: {\"choices\":[{\"text\":\" a\"}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n")
	f.Add(": c\r\ndata: x\r\ndata: y\r\n\r\n")
	f.Add("data")
	f.Fuzz(func(t *testing.T, in string) {
		r := NewSSEReader(strings.NewReader(in))
		total := 0
		for i := 0; ; i++ {
			d, err := r.Next()
			if err != nil {
				return
			}
			total += len(d)
			if total > len(in) || i > len(in) {
				t.Fatalf("read %d bytes in %d events from %d bytes of input", total, i, len(in))
			}
		}
	})
}

func BenchmarkSSEReader(b *testing.B) {
	event := "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\" tok\",\"logprobs\":null,\"finish_reason\":null}]}\n\n"
	in := strings.Repeat(event, 1000)
	for b.Loop() {
		r := NewSSEReader(strings.NewReader(in))
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}
