package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxSpecBytes bounds the size of CompactSpec's output, so that the grid
// spec stored in a file footer stays small whatever the grid.
const MaxSpecBytes = 32 << 10

// compactRun is the shortest run of consecutive integers written as a range.
const compactRun = 3

// longList is the number of values above which a list of strings is
// summarised before it is marshalled at all.
const longList = 256

// CompactSpec returns g as YAML in little space: runs of consecutive
// integers on an axis become "lo-hi" ranges (the flags' syntax), so a
// 1,000,000-value axis is one string; if the spec is still over
// MaxSpecBytes, its longest lists are summarised as their length, first and
// last values and a SHA-256 of the values, until it fits. Memory and time
// grow with the number of ranges, not of values.
func CompactSpec(g Grid) ([]byte, error) {
	v := reflect.ValueOf(&g).Elem()
	replaced := map[string]any{}
	for i := 0; i < v.NumField(); i++ {
		f, sf := v.Field(i), v.Type().Field(i)
		key := strings.Split(sf.Tag.Get("yaml"), ",")[0]
		if key == "" || key == "-" || f.Kind() != reflect.Slice || f.Len() == 0 {
			continue
		}
		switch k := f.Type().Elem().Kind(); {
		case k >= reflect.Int && k <= reflect.Int64:
			r, ok := intRanges(f)
			if len(r) > longList {
				var b strings.Builder
				for j := 0; j < f.Len(); j++ {
					fmt.Fprintf(&b, "%d,", f.Index(j).Int())
				}
				replaced[key] = summary(f.Len(), fmt.Sprint(f.Index(0).Int()), fmt.Sprint(f.Index(f.Len()-1).Int()), b.String())
				f.Set(reflect.Zero(f.Type()))
			} else if ok {
				replaced[key] = r
				f.Set(reflect.Zero(f.Type()))
			}
		case k == reflect.String && f.Len() > longList:
			vals := make([]string, f.Len())
			for j := range vals {
				vals[j] = f.Index(j).String()
			}
			replaced[key] = summary(len(vals), vals[0], vals[len(vals)-1], strings.Join(vals, "\x00"))
			f.Set(reflect.Zero(f.Type()))
		}
	}
	data, err := yaml.Marshal(&g)
	if err != nil {
		return nil, fmt.Errorf("grid spec: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("grid spec: %w", err)
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if r, ok := replaced[m.Content[i].Value]; ok {
			if err := m.Content[i+1].Encode(r); err != nil {
				return nil, fmt.Errorf("grid spec %s: %w", m.Content[i].Value, err)
			}
			m.Content[i+1].Style = yaml.FlowStyle
		}
	}
	for {
		out, err := yaml.Marshal(&doc)
		if err != nil {
			return nil, fmt.Errorf("grid spec: %w", err)
		}
		if len(out) <= MaxSpecBytes {
			return out, nil
		}
		// Summarise the largest remaining list.
		best, size := -1, 0
		for i := 0; i+1 < len(m.Content); i += 2 {
			n := m.Content[i+1]
			if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
				continue
			}
			b, _ := yaml.Marshal(n)
			if len(b) > size {
				best, size = i+1, len(b)
			}
		}
		if best < 0 {
			return nil, fmt.Errorf("grid spec: %d bytes with no list left to summarise", len(out))
		}
		n := m.Content[best]
		body, _ := yaml.Marshal(n)
		first, _ := yaml.Marshal(n.Content[0])
		last, _ := yaml.Marshal(n.Content[len(n.Content)-1])
		s := summary(len(n.Content), clip(first), clip(last), string(body))
		*n = yaml.Node{}
		if err := n.Encode(s); err != nil {
			return nil, fmt.Errorf("grid spec: %w", err)
		}
	}
}

// intRanges writes the integers of slice f as values and "lo-hi" runs; ok
// is false when no run is long enough to shorten the list.
func intRanges(f reflect.Value) (out []any, ok bool) {
	n := f.Len()
	at := func(i int) int64 { return f.Index(i).Int() }
	for i := 0; i < n; {
		j := i
		for j+1 < n && at(j+1) == at(j)+1 {
			j++
		}
		if j-i+1 >= compactRun {
			out = append(out, fmt.Sprintf("%d-%d", at(i), at(j)))
			ok = true
		} else {
			for k := i; k <= j; k++ {
				out = append(out, at(k))
			}
		}
		i = j + 1
	}
	return out, ok
}

func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 64 {
		s = s[:61] + "..."
	}
	return s
}

func summary(n int, first, last, body string) string {
	h := sha256.Sum256([]byte(body))
	return fmt.Sprintf("%d values, %s … %s (sha256:%s)", n, first, last, hex.EncodeToString(h[:8]))
}
