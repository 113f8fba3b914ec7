package parquet

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// MaxOpenPartitions is the most partition files a Dataset keeps open; when
// rows of more partitions interleave, the least recently used is closed and
// its next rows go to a new part file.
const MaxOpenPartitions = 16

// Dataset options of each partition file: small buffers, since several are
// open at once (a Dict column holds a row group's indices).
const (
	datasetBatchRows    = 1 << 12
	datasetPageSize     = 64 << 10
	datasetRowGroupRows = 1 << 16
)

type partition[R any] struct {
	w       reports.Writer[R]
	f       io.WriteCloser
	lastUse int64
}

type dataset[R any] struct {
	schema  reports.Schema[R] // of the part files: the partition columns left out
	by      []reports.Column[R]
	create  func(rel string) (io.WriteCloser, error)
	opts    Options
	open    map[string]*partition[R]
	parts   map[string]int // part files started per partition
	files   int
	key     []byte
	uses    int64
	err     error
	closed  bool
	scratch []byte
}

// NewDataset returns a Writer of a Hive-partitioned dataset: each row goes
// to the file model=M/gpu=G/part-0.parquet (for by = model, gpu) made by
// create, whose rows leave out the partition columns (readers take them from
// the path, as DuckDB's hive_partitioning, polars' and pyarrow's partition
// discovery do). Values are percent-encoded in paths. The partition columns
// must be strings or integers that are not nullable. Rows keep their order
// within each partition.
func NewDataset[R any](schema reports.Schema[R], by []string, create func(rel string) (io.WriteCloser, error), opts Options) (reports.Writer[R], error) {
	if err := schema.Validate(); err != nil {
		return nil, err
	}
	if len(by) == 0 {
		return nil, errors.New("parquet dataset: no partition columns")
	}
	d := &dataset[R]{create: create, open: map[string]*partition[R]{}, parts: map[string]int{}}
	skip := map[string]bool{}
	for _, name := range by {
		i := schema.Index(name)
		if i < 0 {
			return nil, fmt.Errorf("partition column %q: no such column; known: %v", name, schema.Names())
		}
		c := schema.Columns[i]
		if skip[name] {
			return nil, fmt.Errorf("partition column %q named twice", name)
		}
		if c.Nullable || (c.Kind != reports.KindString && c.Kind != reports.KindInt64) {
			return nil, fmt.Errorf("partition column %q: want a string or integer column without nulls", name)
		}
		skip[name] = true
		d.by = append(d.by, c)
	}
	part := schema
	part.Columns = nil
	for _, c := range schema.Columns {
		if !skip[c.Name] {
			part.Columns = append(part.Columns, c)
		}
	}
	if len(part.Columns) == 0 {
		return nil, errors.New("parquet dataset: every column is a partition column")
	}
	d.schema = part
	opts.BatchRows = min(max(opts.BatchRows, 0), datasetBatchRows)
	if opts.BatchRows == 0 {
		opts.BatchRows = datasetBatchRows
	}
	if opts.DataPageSize == 0 || opts.DataPageSize > datasetPageSize {
		opts.DataPageSize = datasetPageSize
	}
	if opts.MaxRowGroupLength == 0 || opts.MaxRowGroupLength > datasetRowGroupRows {
		opts.MaxRowGroupLength = datasetRowGroupRows
	}
	if _, err := opts.withDefaults(); err != nil {
		return nil, err
	}
	d.opts = opts
	return d, nil
}

// pathKey writes row r's partition folder (without the file name) to d.key.
func (d *dataset[R]) pathKey(r *R) {
	d.key = d.key[:0]
	for i := range d.by {
		c := &d.by[i]
		if i > 0 {
			d.key = append(d.key, '/')
		}
		d.key = hiveEscape(d.key, c.Name)
		d.key = append(d.key, '=')
		if c.Kind == reports.KindString {
			d.key = hiveEscape(d.key, c.String(r))
		} else {
			v, _ := c.Int(r)
			d.key = strconv.AppendInt(d.key, v, 10)
		}
	}
}

// Write routes runs of rows with the same partition to its file.
func (d *dataset[R]) Write(rows []R) error {
	if d.err != nil {
		return d.err
	}
	if d.closed {
		return errors.New("parquet dataset: write after close")
	}
	for i := 0; i < len(rows); {
		d.pathKey(&rows[i])
		d.scratch = append(d.scratch[:0], d.key...)
		j := i + 1
		for ; j < len(rows); j++ {
			d.pathKey(&rows[j])
			if string(d.key) != string(d.scratch) {
				break
			}
		}
		p, err := d.partition(string(d.scratch))
		if err != nil {
			d.err = err
			return err
		}
		if err := p.w.Write(rows[i:j]); err != nil {
			d.err = err
			return err
		}
		i = j
	}
	return nil
}

// partition returns the open file of a partition folder, opening one (and
// closing the least recently used beyond MaxOpenPartitions) as needed.
func (d *dataset[R]) partition(key string) (*partition[R], error) {
	d.uses++
	if p, ok := d.open[key]; ok {
		p.lastUse = d.uses
		return p, nil
	}
	if len(d.open) >= MaxOpenPartitions {
		var lru string
		var use int64 = -1
		for k, p := range d.open {
			if use < 0 || p.lastUse < use {
				lru, use = k, p.lastUse
			}
		}
		if err := d.closePartition(lru); err != nil {
			return nil, err
		}
	}
	n := d.parts[key]
	d.parts[key] = n + 1
	f, err := d.create(fmt.Sprintf("%s/part-%d.parquet", key, n))
	if err != nil {
		return nil, err
	}
	w, err := New[R](f, d.schema, d.opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	p := &partition[R]{w: w, f: f, lastUse: d.uses}
	d.open[key] = p
	d.files++
	return p, nil
}

func (d *dataset[R]) closePartition(key string) error {
	p := d.open[key]
	delete(d.open, key)
	err := p.w.Close()
	if cerr := p.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", key, cerr)
	}
	return err
}

// Files is the number of part files started so far.
func (d *dataset[R]) Files() int { return d.files }

// Close finishes every open part file.
func (d *dataset[R]) Close() error {
	if d.closed {
		return d.err
	}
	d.closed = true
	keys := make([]string, 0, len(d.open))
	for k := range d.open {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := d.closePartition(k); err != nil && d.err == nil {
			d.err = err
		}
	}
	return d.err
}

// hiveEscape appends s percent-encoded for a path segment: every byte but
// ASCII letters, digits and "._-" is written as %XX, so "/" and "=" cannot
// split a value, as pyarrow's and DuckDB's URI decoding expects.
func hiveEscape(dst []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hex[c>>4], hex[c&15])
	}
	return dst
}
