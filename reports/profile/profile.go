package profile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports/artifacts"
)

// Version is the profile_version this package writes.
const Version = 1

// SupportedVersions lists the profile versions Parse accepts.
var SupportedVersions = []int{1}

// EmitNames lists the artifact names outputs.emit may hold, in output order.
var EmitNames = []string{"command", "docker", "compose", "k8s", "profile"}

// ErrUnsupportedVersion is returned for a missing or unknown profile_version.
var ErrUnsupportedVersion = errors.New("unsupported profile version")

// Profile is one profile file.
type Profile struct {
	// ProfileVersion is the schema version (see SupportedVersions).
	ProfileVersion int `yaml:"profile_version"`
	// Model says what to serve.
	Model Model `yaml:"model"`
	// Hardware says what to serve it on.
	Hardware Hardware `yaml:"hardware"`
	// Workload is the traffic to plan for.
	Workload Workload `yaml:"workload"`
	// Policy holds the memory-planning knobs.
	Policy Policy `yaml:"policy"`
	// Outputs says what generate writes and which vLLM arguments it uses.
	Outputs Outputs `yaml:"outputs"`
	// Baselines is the estimator parameter set the plan was made with.
	Baselines Baselines `yaml:"baselines"`
}

// Model is the profile's model section.
type Model struct {
	// ID is a catalog id, a Hub id or a local model folder.
	ID string `yaml:"id"`
	// Revision is the Hub revision ("" = the default branch).
	Revision string `yaml:"revision,omitempty"`
	// ParamsB overrides the parameter count, in billions.
	ParamsB *float64 `yaml:"params_b,omitempty"`
	// Dtype is the weight dtype ("auto" = bfloat16).
	Dtype string `yaml:"dtype"`
	// Quantization is the weight quantization ("" = the checkpoint's own).
	Quantization string `yaml:"quantization"`
	// QuantizedModel is a checkpoint already in Quantization's format.
	QuantizedModel string `yaml:"quantized_model,omitempty"`
	// KVCacheDtype is the KV cache dtype ("auto" = the weight dtype).
	KVCacheDtype string `yaml:"kv_cache_dtype"`
	// MaxModelLen is the context to plan for (0 = the longest that fits).
	MaxModelLen *int `yaml:"max_model_len,omitempty"`
}

// Hardware is the profile's hardware section.
type Hardware struct {
	// GPUName is a catalog GPU name or any name with VRAMGB.
	GPUName string `yaml:"gpu_name"`
	// GPUs is the number of GPUs.
	GPUs *int `yaml:"gpus,omitempty"`
	// VRAMGB is the memory per GPU in GiB (overrides the catalog).
	VRAMGB *float64 `yaml:"vram_gb,omitempty"`
	// MemBWGBs is the memory bandwidth in GB/s (overrides the catalog).
	MemBWGBs *float64 `yaml:"mem_bw_gb_s,omitempty"`
	// Interconnect is nvlink, pcie, unknown or auto.
	Interconnect string `yaml:"interconnect"`
	// TPSize is the tensor-parallel size (0 = recommended).
	TPSize *int `yaml:"tp_size,omitempty"`
}

// Workload is the profile's workload section.
type Workload struct {
	// PromptTokens is the typical prompt length.
	PromptTokens *int `yaml:"prompt_tokens,omitempty"`
	// GenTokens is the typical number of generated tokens.
	GenTokens *int `yaml:"gen_tokens,omitempty"`
	// Concurrency is the number of concurrent sequences.
	Concurrency *int `yaml:"concurrency,omitempty"`
	// Streaming records whether clients stream (kept from the seed's
	// schema; the planner does not use it).
	Streaming *bool `yaml:"streaming,omitempty"`
	// Mode is the batching mode: latency, balanced or throughput.
	Mode string `yaml:"mode"`
}

// Policy is the profile's policy section.
type Policy struct {
	// GPUMemoryUtilization is vLLM's share of VRAM (0 = per-GPU default).
	GPUMemoryUtilization *float64 `yaml:"gpu_memory_utilization,omitempty"`
	// OverheadGB is the per-GPU overhead in GiB (negative = estimated).
	OverheadGB *float64 `yaml:"overhead_gb,omitempty"`
	// FragmentationFactor multiplies the KV cache.
	FragmentationFactor *float64 `yaml:"fragmentation_factor,omitempty"`
	// HeadroomGB is the free memory per GPU a plan must keep.
	HeadroomGB *float64 `yaml:"headroom_gb,omitempty"`
}

// Outputs is the profile's outputs section.
type Outputs struct {
	// Emit lists the artifacts generate writes (nil = all of EmitNames).
	Emit []string `yaml:"emit,omitempty,flow"`
	// VLLMArgs maps vLLM flag names (without the leading --) to values; an
	// empty value is a flag without a value.
	VLLMArgs map[string]string `yaml:"vllm_args,omitempty"`
}

// Baselines names the estimator parameter set of the plan.
type Baselines struct {
	// Name is an embedded set name or a file path.
	Name string `yaml:"name,omitempty"`
	// Hash is the set's content hash when the profile was written.
	Hash string `yaml:"hash,omitempty"`
}

// Error is a problem at a line of a profile file.
type Error struct {
	// File is the name the profile was read under.
	File string
	// Line is the 1-based line (0 = unknown).
	Line int
	// Err describes the problem.
	Err error
}

// Error formats the problem as FILE:LINE: message.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap returns the underlying problem.
func (e *Error) Unwrap() error { return e.Err }

var (
	yamlLineErr = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })
	flagKey     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`) })
)

type parser struct {
	file string
	// lines maps a dotted key path to the line of its value.
	lines map[string]int
}

func (p *parser) errf(line int, format string, a ...any) error {
	return &Error{File: p.file, Line: line, Err: fmt.Errorf(format, a...)}
}

// Parse decodes and validates a profile; name (the file name) prefixes
// every error.
func Parse(name string, data []byte) (*Profile, error) {
	p := &parser{file: name, lines: map[string]int{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, p.errf(0, "empty profile; it needs at least profile_version: %d", Version)
		}
		return nil, p.yamlErr(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, p.yamlErr(err)
		}
		return nil, p.errf(extra.Line, "a profile is one YAML document; found another")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) != 1 {
			return nil, p.errf(root.Line, "empty profile; it needs at least profile_version: %d", Version)
		}
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, p.errf(root.Line, "a profile is a mapping of sections (profile_version, model, hardware, …), not a %s", kindName(root))
	}
	if err := p.check(root, reflect.TypeFor[Profile](), ""); err != nil {
		return nil, err
	}
	var prof Profile
	if err := root.Decode(&prof); err != nil {
		return nil, p.yamlErr(err)
	}
	prof.normalize()
	if err := p.validate(&prof); err != nil {
		return nil, err
	}
	return &prof, nil
}

func (p *parser) yamlErr(err error) error {
	msg := strings.TrimSpace(err.Error())
	if m := yamlLineErr().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return p.errf(line, "%s", m[2])
	}
	return &Error{File: p.file, Err: fmt.Errorf("decode: %w", err)}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "mapping"
	case yaml.AliasNode:
		return "alias"
	}
	if n.ShortTag() == "!!null" {
		return "null"
	}
	return fmt.Sprintf("value %q", n.Value)
}

// where names a key path for messages ("" is the top level).
func where(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// scalarTags are the YAML types a number or bool field accepts.
var scalarTags = map[reflect.Kind][]string{
	reflect.Int:     {"!!int"},
	reflect.Float64: {"!!int", "!!float"},
	reflect.Bool:    {"!!bool"},
}

// check walks node against the Go type t, so that unknown keys, wrong
// types and duplicates are reported with their line and key path.
func (p *parser) check(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return p.errf(n.Line, "%s: anchors and aliases are not supported in profiles", where(path))
	}
	if path != "" {
		p.lines[path] = n.Line
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	isNull := n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice:
		if isNull {
			return nil
		}
	}
	switch t.Kind() {
	case reflect.Struct:
		return p.checkStruct(n, t, path)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return p.errf(n.Line, "%s must be a mapping, not a %s", where(path), kindName(n))
		}
		return p.checkKeys(n, path, func(k *yaml.Node) (reflect.Type, error) { return t.Elem(), nil })
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return p.errf(n.Line, "%s must be a list, not a %s", where(path), kindName(n))
		}
		for i, item := range n.Content {
			if err := p.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	return p.checkScalar(n, t, path)
}

// checkStruct checks a mapping against the yaml keys of struct type t.
func (p *parser) checkStruct(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind != yaml.MappingNode {
		return p.errf(n.Line, "%s must be a mapping of keys, not a %s", where(path), kindName(n))
	}
	fields := map[string]reflect.Type{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		fields[name] = f.Type
		names = append(names, name)
	}
	return p.checkKeys(n, path, func(k *yaml.Node) (reflect.Type, error) {
		ft, ok := fields[k.Value]
		if !ok {
			msg := fmt.Sprintf("unknown key %q in %s", k.Value, where(path))
			if s := planner.DidYouMean(k.Value, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return nil, p.errf(k.Line, "%s; known keys: %s", msg, strings.Join(names, ", "))
		}
		return ft, nil
	})
}

// checkKeys checks each key of mapping n (plain, not repeated) and its
// value against the type typeOf gives the key.
func (p *parser) checkKeys(n *yaml.Node, path string, typeOf func(k *yaml.Node) (reflect.Type, error)) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return p.errf(k.Line, "%s: keys must be plain names, not a %s", where(path), kindName(k))
		}
		t, err := typeOf(k)
		if err != nil {
			return err
		}
		if l, dup := seen[k.Value]; dup {
			return p.errf(k.Line, "key %q in %s repeats the one on line %d", k.Value, where(path), l)
		}
		seen[k.Value] = k.Line
		if err := p.check(v, t, join(path, k.Value)); err != nil {
			return err
		}
	}
	return nil
}

// checkScalar checks a scalar of type t: its own YAML type (yaml.v3 would
// truncate 1.5 into an int), a finite number, no NUL character.
func (p *parser) checkScalar(n *yaml.Node, t reflect.Type, path string) error {
	want := map[reflect.Kind]string{reflect.String: "a string", reflect.Int: "an integer", reflect.Float64: "a number", reflect.Bool: "true or false"}[t.Kind()]
	if n.Kind != yaml.ScalarNode {
		return p.errf(n.Line, "%s must be %s, not a %s", where(path), want, kindName(n))
	}
	typeOK := true
	if tags, ok := scalarTags[t.Kind()]; ok && n.ShortTag() != "!!null" {
		typeOK = contains(tags, n.ShortTag())
	}
	v := reflect.New(t)
	if err := n.Decode(v.Interface()); err != nil || !typeOK {
		return p.errf(n.Line, "%s must be %s, not %q", where(path), want, n.Value)
	}
	if t.Kind() == reflect.Float64 {
		if f := v.Elem().Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return p.errf(n.Line, "%s must be a finite number, not %q", where(path), n.Value)
		}
	}
	if t.Kind() == reflect.String && strings.ContainsRune(v.Elem().String(), 0) {
		return p.errf(n.Line, "%s must not contain a NUL character", where(path))
	}
	return nil
}

// normalize makes empty collections nil, so a profile re-marshals to the
// same value.
func (p *Profile) normalize() {
	if len(p.Outputs.VLLMArgs) == 0 {
		p.Outputs.VLLMArgs = nil
	}
}

func (p *parser) validate(prof *Profile) error {
	vline := p.lines["profile_version"]
	if vline == 0 {
		return &Error{File: p.file, Err: fmt.Errorf("%w: profile_version is missing; supported versions: %s", ErrUnsupportedVersion, versions())}
	}
	ok := false
	for _, v := range SupportedVersions {
		ok = ok || prof.ProfileVersion == v
	}
	if !ok {
		return &Error{File: p.file, Line: vline, Err: fmt.Errorf("%w: profile_version %d; supported versions: %s", ErrUnsupportedVersion, prof.ProfileVersion, versions())}
	}
	if prof.Outputs.Emit != nil {
		if len(prof.Outputs.Emit) == 0 {
			return p.errf(p.lines["outputs.emit"], "outputs.emit is empty; list some of %s, or remove it to emit all", strings.Join(EmitNames, ", "))
		}
		seen := map[string]bool{}
		for i, e := range prof.Outputs.Emit {
			line := p.lines[fmt.Sprintf("outputs.emit[%d]", i)]
			if !contains(EmitNames, e) {
				return p.errf(line, "outputs.emit: unknown artifact %q; known: %s", e, strings.Join(EmitNames, ", "))
			}
			if seen[e] {
				return p.errf(line, "outputs.emit: %q is listed twice", e)
			}
			seen[e] = true
		}
	}
	keys := make([]string, 0, len(prof.Outputs.VLLMArgs))
	for k := range prof.Outputs.VLLMArgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !flagKey().MatchString(k) {
			hint := "use lower-case letters, digits, '-' and '_'"
			if strings.HasPrefix(k, "-") {
				hint = "write it without the leading -- (e.g. enable-prefix-caching)"
			}
			return p.errf(p.lines[join("outputs.vllm_args", k)], "outputs.vllm_args: %q is not a vLLM flag name; %s", k, hint)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func versions() string {
	s := make([]string, len(SupportedVersions))
	for i, v := range SupportedVersions {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ", ")
}

// header opens every written profile.
const header = `# vllm-wizard profile. Re-plan with:   vllm-wizard plan --profile FILE
# Regenerate the artifacts with:      vllm-wizard generate --profile FILE --output-dir DIR
# Flags given on the command line override these values. 0 means "recommend"
# for max_model_len, tp_size and gpu_memory_utilization; a negative
# overhead_gb means "estimate"; quantization "" means the checkpoint's own.
# outputs.vllm_args: the plan's vLLM arguments, for reference; they are
# planned again from the values above on every load. Flags added here that
# the plan does not set are passed through to vllm serve ("" = no value).
`

// Marshal encodes a profile as YAML, with a header comment.
func Marshal(p *Profile) ([]byte, error) {
	var b bytes.Buffer
	if err := Write(&b, p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Write encodes a profile as YAML to w, with a header comment.
func Write(w io.Writer, p *Profile) error {
	var b bytes.Buffer
	b.WriteString(header)
	if err := artifacts.EncodeYAML(&b, p); err != nil {
		return fmt.Errorf("encode profile: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write profile: %w", err)
	}
	return nil
}
