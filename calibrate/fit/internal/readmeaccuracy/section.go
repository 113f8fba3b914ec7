package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Markers delimit the generated README section; the begin marker may carry
// a note before its closing "-->".
const (
	beginMarker = "<!-- accuracy:begin"
	endMarker   = "<!-- accuracy:end -->"
)

// ErrNoMarkers is returned when the README lacks the section's markers.
var ErrNoMarkers = errors.New("README has no accuracy section markers")

// Section builds the README section from an accuracy report: the text
// before its first "## " heading (without the title and HTML comments) and
// the "## Per source" part, demoted to "###", then a pointer to the
// per-point table.
func Section(accuracy []byte) ([]byte, error) {
	text := strings.ReplaceAll(string(accuracy), "\r\n", "\n")
	parts := strings.Split(text, "\n## ")
	var out strings.Builder
	for _, line := range strings.Split(parts[0], "\n") {
		if strings.HasPrefix(line, "# ") || strings.HasPrefix(strings.TrimSpace(line), "<!--") {
			continue
		}
		out.WriteString(line + "\n")
	}
	intro := strings.TrimSpace(out.String())
	if !strings.Contains(intro, "|---") {
		return nil, errors.New("accuracy report has no summary table before its first section")
	}
	perSource := ""
	for _, p := range parts[1:] {
		if strings.HasPrefix(p, "Per source\n") {
			perSource = strings.TrimSpace(p)
		}
	}
	if perSource == "" {
		return nil, errors.New(`accuracy report has no "## Per source" section`)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\n### %s\n\nThe error of every held-out point is in [docs/accuracy.md](docs/accuracy.md).\n", intro, perSource)
	return b.Bytes(), nil
}

// Replace returns readme with the text between the markers replaced by
// section; the marker lines are kept as they are.
func Replace(readme, section []byte) ([]byte, error) {
	s := string(readme)
	i := strings.Index(s, beginMarker)
	if i < 0 {
		return nil, ErrNoMarkers
	}
	nl := strings.IndexByte(s[i:], '\n')
	if nl < 0 {
		return nil, fmt.Errorf("%w: nothing after the begin marker", ErrNoMarkers)
	}
	start := i + nl + 1
	j := strings.Index(s[start:], endMarker)
	if j < 0 {
		return nil, fmt.Errorf("%w: no %s after the begin marker", ErrNoMarkers, endMarker)
	}
	end := start + j
	var b bytes.Buffer
	b.WriteString(s[:start])
	b.Write(section)
	if len(section) > 0 && section[len(section)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteString(s[end:])
	return b.Bytes(), nil
}
