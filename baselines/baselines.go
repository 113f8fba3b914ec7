package baselines

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

//go:embed data/*.json
var embedded embed.FS

//go:generate go test -tags baselines_regen -run ^TestDefaultGenerated$ -update .

// ErrUnknownSet is returned for a name that is neither embedded nor a file.
var ErrUnknownSet = errors.New("unknown baselines set")

// DefaultName is the embedded set used when none is given.
const DefaultName = "default"

// Set is a loaded baselines parameter set with its identity.
type Set struct {
	planner.Baselines
	// Hash is the first 12 hex digits of the SHA-256 of the canonical JSON.
	Hash string
	// Origin is "embedded:NAME" or the file path it was read from.
	Origin string
}

// Label is "name version (hash)" for reports.
func (s *Set) Label() string { return fmt.Sprintf("%s %s (%s)", s.Name, s.Version, s.Hash) }

// Names lists the embedded sets.
func Names() []string {
	ents, _ := embedded.ReadDir("data")
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".json") {
			out = append(out, strings.TrimSuffix(e.Name(), ".json"))
		}
	}
	sort.Strings(out)
	return out
}

// Embedded returns an embedded set by name ("default", "seed").
func Embedded(name string) (*Set, error) {
	if name == DefaultName {
		if s := genDefault(); s != nil {
			return s, nil
		}
	}
	data, err := embedded.ReadFile("data/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("%w %q; embedded: %s", ErrUnknownSet, name, strings.Join(Names(), ", "))
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("embedded baselines %q: %w", name, err)
	}
	s.Origin = "embedded:" + name
	return s, nil
}

// Default returns the embedded default set. It is data/default.json as Go
// code (default_gen.go), so a command starts without decoding, validating
// and hashing JSON; TestDefaultGenerated holds the two equal. Built with
// the tag baselines_regen (make baselines, go generate) it is parsed from
// the file instead, so a refit never depends on the generated code.
func Default() *Set {
	s, err := Embedded(DefaultName)
	if err != nil {
		panic(err) // a test proves the embedded file loads
	}
	return s
}

// Load reads a set from an embedded name or a file path: a value naming an
// existing file is read as a file, otherwise as an embedded name.
func Load(nameOrPath string) (*Set, error) {
	if nameOrPath == "" {
		return Default(), nil
	}
	if _, err := os.Stat(nameOrPath); err != nil {
		if s, eerr := Embedded(nameOrPath); eerr == nil {
			return s, nil
		}
		return nil, fmt.Errorf("baselines %q: not a file (%w) and not an embedded set (%s)", nameOrPath, err, strings.Join(Names(), ", "))
	}
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		return nil, fmt.Errorf("read baselines: %w", err)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("baselines %s: %w", nameOrPath, err)
	}
	s.Origin = nameOrPath
	return s, nil
}

// Parse decodes and validates a baselines file. Unknown fields are errors,
// so a typo cannot silently fall back to a default.
func Parse(data []byte) (*Set, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b planner.Baselines
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode: trailing data after the JSON object")
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	h, err := Hash(&b)
	if err != nil {
		return nil, err
	}
	return &Set{Baselines: b, Hash: h}, nil
}

// Hash returns the content hash of a parameter set: SHA-256 over its
// canonical JSON encoding (map keys sorted), first 12 hex digits.
func Hash(b *planner.Baselines) (string, error) {
	data, err := json.Marshal(b)
	if err != nil {
		return "", fmt.Errorf("hash baselines: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:12], nil
}

// Write encodes b as indented JSON (the file format).
func Write(w io.Writer, b *planner.Baselines) error {
	if err := b.Validate(); err != nil {
		return fmt.Errorf("refusing to write invalid baselines: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		return fmt.Errorf("encode baselines: %w", err)
	}
	return nil
}

// Marshal returns the file bytes of b.
func Marshal(b *planner.Baselines) ([]byte, error) {
	var buf bytes.Buffer
	if err := Write(&buf, b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
