package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Kind is the value type of a column.
type Kind int

// Column kinds.
const (
	KindString Kind = iota
	KindInt64
	KindFloat64
	KindBool
)

// String returns the lowercase name of the kind.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindInt64:
		return "int64"
	case KindFloat64:
		return "float64"
	case KindBool:
		return "bool"
	default:
		return fmt.Sprintf("Kind(%d)", int(k))
	}
}

// MetaSchemaVersion is the metadata key that versions a schema's columns.
const MetaSchemaVersion = "schema_version"

// ErrMissingValue is returned by Write when a column that is not Nullable has
// no value in a row.
var ErrMissingValue = errors.New("missing value in non-nullable column")

// ErrInvalidSchema is returned when a Schema fails Validate.
var ErrInvalidSchema = errors.New("invalid schema")

// Scope says over which rows a column's value can change.
type Scope uint8

// Column scopes.
const (
	// ScopeRow: the value may differ from one row to the next.
	ScopeRow Scope = iota
	// ScopeGroup: every row of a group (the rows with the same non-zero
	// Schema.Group id) has the same value, null or not. A writer may read
	// it at a group's first row and reuse it for the group's other rows.
	ScopeGroup
)

// Column describes one output column and how to read it from a row of type R.
type Column[R any] struct {
	// Name is the snake_case column name (Parquet, CSV and JSONL headers).
	Name string
	// Label is the human header with its unit, e.g. "Weights (GiB per GPU)",
	// used by the xlsx Sweep sheet; empty means Name.
	Label string
	// Description is one sentence on what the value is, for the docs and the
	// header comments.
	Description string
	// Kind is the value type; exactly the matching accessor must be set.
	Kind Kind
	// Nullable marks a column whose value may be absent (accessor ok=false,
	// or the empty string for KindString).
	Nullable bool
	// Dict marks a low-cardinality string column (dictionary-encoded in Parquet).
	Dict bool
	// DictValues optionally lists the values a Dict column is expected to
	// take, so a writer can build its dictionary up front; other values are
	// still written, only less cheaply.
	DictValues []string
	// Unit is the unit of the values, e.g. "GiB", "tok/s", "USD/h".
	Unit string
	// NumFmt is the Excel number format, e.g. "0.00", "#,##0", "$#,##0.00".
	NumFmt string
	// Width is the Excel column width in characters; 0 picks one from the name.
	Width float64
	// Scope is ScopeGroup when the value is the same for every row of a
	// group (see Schema.Group), else ScopeRow.
	Scope Scope
	// GroupNull, when set on a nullable ScopeRow column, reports for a row
	// of a group (a non-zero Schema.Group id) whether the column is null
	// in every row of that group, and gives the same answer for all of
	// them; false promises nothing. A writer may then test one row of a
	// group instead of reading the column from each (sweep: the
	// performance columns of a point that does not fit, the SLO columns
	// of a grid without a target).
	GroupNull func(*R) bool
	// String reads a KindString value.
	String func(*R) string
	// NewString, when set, makes a String accessor for the sole use of one
	// goroutine (one that keeps a cache, say); writers that read rows on
	// several goroutines call it once for each (see Schema.Local).
	NewString func() func(*R) string
	// Int reads a KindInt64 value; ok=false means null.
	Int func(*R) (int64, bool)
	// Float reads a KindFloat64 value; ok=false means null.
	Float func(*R) (float64, bool)
	// Bool reads a KindBool value; ok=false means null.
	Bool func(*R) (bool, bool)
	// Batch, when set on a KindInt64, KindFloat64 or KindBool column,
	// reads the column from many rows in one call, exactly as Int, Float
	// or Bool would one row at a time, so that a writer may use either.
	// It stores each present value, in row order, as a 64-bit word
	// (int64 as its two's complement, float64 by math.Float64bits, bool
	// as 0 or 1) at vals[0], vals[1], …; when defs is not nil it sets
	// defs[i] to 1 where rows[i] has a value and 0 where it is null. It
	// returns the number of values stored. vals and defs hold at least
	// len(rows) elements; vals beyond the values stored may be written.
	// With defs nil it may stop at the first row without a value.
	Batch func(rows []R, vals []uint64, defs []uint8) int
}

// Schema is the ordered list of columns written for rows of type R plus
// file-level metadata (tool version, baselines hash, grid spec, schema version).
type Schema[R any] struct {
	// Columns are written in this order.
	Columns []Column[R]
	// Metadata is stored as file key-value metadata where the format has it.
	Metadata map[string]string
	// Group, when set, returns a row's group id: rows with the same
	// non-zero id have the same value in every ScopeGroup column. 0 means
	// the row belongs to no group (read all its columns).
	Group func(*R) int64
}

// GroupOf returns r's group id, 0 when the schema has no Group.
func (s Schema[R]) GroupOf(r *R) int64 {
	if s.Group == nil {
		return 0
	}
	return s.Group(r)
}

// Writer receives rows in order from a single goroutine.
type Writer[R any] interface {
	// Write appends rows; the writer does not keep references to the slice.
	Write(rows []R) error
	// Close flushes buffered output; it does not close the underlying io.Writer.
	Close() error
}

// Validate checks that column names are non-empty snake_case and unique and
// that each column has exactly the accessor its Kind needs.
func (s Schema[R]) Validate() error {
	if len(s.Columns) == 0 {
		return fmt.Errorf("%w: no columns", ErrInvalidSchema)
	}
	seen := make(map[string]bool, len(s.Columns))
	for i, c := range s.Columns {
		if !isSnakeCase(c.Name) {
			return fmt.Errorf("%w: column %d name %q is not snake_case ([a-z][a-z0-9_]*)", ErrInvalidSchema, i, c.Name)
		}
		if seen[c.Name] {
			return fmt.Errorf("%w: duplicate column %q", ErrInvalidSchema, c.Name)
		}
		seen[c.Name] = true
		set := map[Kind]bool{KindString: c.String != nil, KindInt64: c.Int != nil, KindFloat64: c.Float != nil, KindBool: c.Bool != nil}
		if _, known := set[c.Kind]; !known {
			return fmt.Errorf("%w: column %q has unknown kind %v", ErrInvalidSchema, c.Name, c.Kind)
		}
		for k, has := range set {
			if k == c.Kind && !has {
				return fmt.Errorf("%w: column %q of kind %v has no %v accessor", ErrInvalidSchema, c.Name, c.Kind, c.Kind)
			}
			if k != c.Kind && has {
				return fmt.Errorf("%w: column %q of kind %v also sets a %v accessor", ErrInvalidSchema, c.Name, c.Kind, k)
			}
		}
		if c.Dict && c.Kind != KindString {
			return fmt.Errorf("%w: column %q: Dict is only valid for string columns", ErrInvalidSchema, c.Name)
		}
		if len(c.DictValues) > 0 {
			if !c.Dict {
				return fmt.Errorf("%w: column %q: DictValues needs Dict", ErrInvalidSchema, c.Name)
			}
			vals := make(map[string]bool, len(c.DictValues))
			for _, v := range c.DictValues {
				if vals[v] {
					return fmt.Errorf("%w: column %q: duplicate dictionary value %q", ErrInvalidSchema, c.Name, v)
				}
				vals[v] = true
			}
		}
		if c.Batch != nil && c.Kind == KindString {
			return fmt.Errorf("%w: column %q of kind %v sets Batch", ErrInvalidSchema, c.Name, c.Kind)
		}
		if c.NewString != nil && c.Kind != KindString {
			return fmt.Errorf("%w: column %q of kind %v sets NewString", ErrInvalidSchema, c.Name, c.Kind)
		}
		if c.Scope > ScopeGroup {
			return fmt.Errorf("%w: column %q has unknown scope %d", ErrInvalidSchema, c.Name, c.Scope)
		}
		if c.GroupNull != nil && (!c.Nullable || c.Scope != ScopeRow) {
			return fmt.Errorf("%w: column %q: GroupNull is only valid on a nullable ScopeRow column", ErrInvalidSchema, c.Name)
		}
		if c.Width < 0 {
			return fmt.Errorf("%w: column %q has negative width %v", ErrInvalidSchema, c.Name, c.Width)
		}
	}
	return nil
}

func isSnakeCase(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// Header returns Label, or Name when no label is set.
func (c *Column[R]) Header() string {
	if c.Label != "" {
		return c.Label
	}
	return c.Name
}

// Local returns a copy of s for the sole use of one goroutine: each column
// with NewString has a String accessor of its own.
func (s Schema[R]) Local() Schema[R] {
	cols := make([]Column[R], len(s.Columns))
	copy(cols, s.Columns)
	for i := range cols {
		if cols[i].NewString != nil {
			cols[i].String = cols[i].NewString()
		}
	}
	s.Columns = cols
	return s
}

// Index returns the position of the named column, or -1.
func (s Schema[R]) Index(name string) int {
	for i := range s.Columns {
		if s.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// Names returns the column names in order.
func (s Schema[R]) Names() []string {
	out := make([]string, len(s.Columns))
	for i := range s.Columns {
		out[i] = s.Columns[i].Name
	}
	return out
}

// Fingerprint is a stable hash of the column layout (names, kinds,
// nullability), used as the schema version when Metadata does not set one.
func (s Schema[R]) Fingerprint() string {
	h := sha256.New()
	for _, c := range s.Columns {
		fmt.Fprintf(h, "%s\x00%d\x00%t\n", c.Name, c.Kind, c.Nullable)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}

// FileMetadata returns Metadata as sorted key/value pairs with
// MetaSchemaVersion always present (Fingerprint when unset).
func (s Schema[R]) FileMetadata() (keys, values []string) {
	keys = make([]string, 0, len(s.Metadata)+1)
	for k := range s.Metadata {
		keys = append(keys, k)
	}
	if _, ok := s.Metadata[MetaSchemaVersion]; !ok {
		keys = append(keys, MetaSchemaVersion)
	}
	sort.Strings(keys)
	values = make([]string, len(keys))
	for i, k := range keys {
		if v, ok := s.Metadata[k]; ok {
			values[i] = v
		} else {
			values[i] = s.Fingerprint()
		}
	}
	return keys, values
}

// MissingValue returns the error Write reports when column c of row number
// row (0-based, counted over the whole output) has no value.
func MissingValue(column string, row int64) error {
	return fmt.Errorf("column %q row %d: %w (mark the column Nullable or fill it)", column, row, ErrMissingValue)
}

// NeutralizeFormula returns s prefixed with a single quote when a spreadsheet
// would read it as a formula (it starts with =, +, -, @, tab or carriage
// return), following OWASP's CSV-injection advice; other strings are returned
// unchanged.
func NeutralizeFormula(s string) string {
	if NeedsFormulaGuard(s) {
		return "'" + s
	}
	return s
}

// NeedsFormulaGuard reports whether NeutralizeFormula would change s.
func NeedsFormulaGuard(s string) bool {
	return s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0
}
