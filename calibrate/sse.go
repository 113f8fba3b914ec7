package calibrate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrMalformed is wrapped when the server sends something that is not the
// expected SSE or JSON.
var ErrMalformed = errors.New("malformed response")

// maxSSELine bounds one SSE line; a longer line is malformed.
const maxSSELine = 1 << 20

// SSEReader reads the data of server-sent events: "data:" lines joined by
// newlines, events separated by blank lines, ":" comment lines and other
// fields ignored, CRLF or LF line ends.
type SSEReader struct {
	r    *bufio.Reader
	data bytes.Buffer
}

// NewSSEReader returns an SSEReader reading r.
func NewSSEReader(r io.Reader) *SSEReader {
	return &SSEReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the data of the next event that has any. At the end of the
// stream it returns io.EOF; a stream cut inside an event returns
// io.ErrUnexpectedEOF; a line over 1 MiB wraps ErrMalformed.
func (s *SSEReader) Next() ([]byte, error) {
	s.data.Reset()
	hasData := false
	for {
		line, err := s.readLine()
		if err != nil {
			if err == io.EOF && (hasData || len(line) > 0) {
				// The event was not terminated by a blank line.
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if len(line) == 0 {
			if hasData {
				return s.data.Bytes(), nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		if string(field) != "data" {
			continue // event, id, retry and unknown fields
		}
		if hasData {
			s.data.WriteByte('\n')
		}
		s.data.Write(value)
		hasData = true
		if s.data.Len() > maxSSELine {
			return nil, fmt.Errorf("%w: event over %d bytes", ErrMalformed, maxSSELine)
		}
	}
}

// readLine returns one line without its line end.
func (s *SSEReader) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := s.r.ReadLine()
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				return line, io.EOF
			}
			return nil, err
		}
		line = append(line, chunk...)
		if len(line) > maxSSELine {
			return nil, fmt.Errorf("%w: line over %d bytes", ErrMalformed, maxSSELine)
		}
		if !isPrefix {
			return line, nil
		}
	}
}
