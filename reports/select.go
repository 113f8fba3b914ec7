package reports

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// ErrUnknownColumn is returned by Select and Drop for a name the schema
// does not have.
var ErrUnknownColumn = errors.New("unknown column")

// MetaColumnsSelected is the metadata key under which a schema narrowed by
// Select or Drop lists the columns it kept, so a reader knows the file
// holds a chosen subset of the schema version's columns.
const MetaColumnsSelected = "columns_selected"

// Select returns the schema with only the named columns, in the order
// given. Unknown and repeated names are errors.
func (s Schema[R]) Select(names []string) (Schema[R], error) {
	if len(names) == 0 {
		return Schema[R]{}, fmt.Errorf("%w: no columns selected", ErrInvalidSchema)
	}
	cols := make([]Column[R], 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		i := s.Index(n)
		if i < 0 {
			return Schema[R]{}, s.unknown(n)
		}
		if seen[n] {
			return Schema[R]{}, fmt.Errorf("%w: column %q selected twice", ErrInvalidSchema, n)
		}
		seen[n] = true
		cols = append(cols, s.Columns[i])
	}
	return s.narrowed(cols), nil
}

// Drop returns the schema without the named columns, the others in their
// order. Unknown names are errors, and so is dropping every column.
func (s Schema[R]) Drop(names []string) (Schema[R], error) {
	drop := make(map[string]bool, len(names))
	for _, n := range names {
		if s.Index(n) < 0 {
			return Schema[R]{}, s.unknown(n)
		}
		drop[n] = true
	}
	cols := make([]Column[R], 0, len(s.Columns))
	for _, c := range s.Columns {
		if !drop[c.Name] {
			cols = append(cols, c)
		}
	}
	if len(cols) == 0 {
		return Schema[R]{}, fmt.Errorf("%w: every column dropped", ErrInvalidSchema)
	}
	return s.narrowed(cols), nil
}

// narrowed is s (its Group too) with cols and a copy of its metadata
// naming them.
func (s Schema[R]) narrowed(cols []Column[R]) Schema[R] {
	md := make(map[string]string, len(s.Metadata)+1)
	for k, v := range s.Metadata {
		md[k] = v
	}
	names := make([]string, len(cols))
	for i := range cols {
		names[i] = cols[i].Name
	}
	md[MetaColumnsSelected] = strings.Join(names, ",")
	s.Columns, s.Metadata = cols, md
	return s
}

func (s Schema[R]) unknown(name string) error {
	if near := planner.DidYouMean(name, s.Names()); near != "" {
		return fmt.Errorf("%w %q (did you mean %q?)", ErrUnknownColumn, name, near)
	}
	return fmt.Errorf("%w %q; the columns are listed in docs/sweep.md", ErrUnknownColumn, name)
}
