package artifacts

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// hostile are model ids (and other values) that would inject commands or
// YAML structure if any output were templated without quoting. Each tries to
// create the file "pwned" in the working directory.
var hostile = []struct{ name, value string }{
	{"semicolon", "x; touch pwned; rm -rf ~"},
	{"command substitution", "$(touch pwned)"},
	{"backticks", "`touch pwned`"},
	{"single quote breakout", "a'; touch pwned; echo '"},
	{"double quote breakout", `a"; touch pwned; echo "`},
	{"newline", "org/model\ntouch pwned"},
	{"carriage return", "org/model\r\ntouch pwned"},
	{"comment", "org/model # touch pwned"},
	{"yaml mapping", "key: value"},
	{"yaml alias", "*a"},
	{"yaml anchor", "&b x"},
	{"yaml tag", "!!python/object/apply:os.system ['touch pwned']"},
	{"yaml flow", "{a: 1, b: [2]}"},
	{"yaml document marker", "a\n---\nkind: Secret"},
	{"yaml null", "null"},
	{"yaml bool", "yes"},
	{"yaml number", "0x1F"},
	{"tilde", "~"},
	{"variable", "${HF_TOKEN}"},
	{"k8s variable", "$(HF_TOKEN)"},
	{"escaped dollar", "$$(HF_TOKEN)"},
	{"backslash", `a\`},
	{"glob", "*"},
	{"tab and unicode line separator", "a\tb\u2028c"},
	{"all together", "x; rm -rf ~ $(id) `id` 'q' \"d\" \n# : *a &b !!python"},
}

// plan builds a 2-of-4-GPU plan whose model and GPU names are model.
func plan(model string) *planner.Response {
	args := []planner.Arg{
		{Flag: "--tensor-parallel-size", Value: "2"},
		{Flag: "--max-model-len", Value: "8192"},
		{Flag: "--kv-cache-dtype", Value: "fp8"},
		{Flag: "--kv-cache-dtype", Value: "fp8_e5m2"}, // dropped, as in planner.ServeCommand
		{Flag: "--served-model-name", Value: model},
		{Flag: "--enable-prefix-caching"},
	}
	return &planner.Response{
		GPU:     planner.GPU{Name: model, MemoryGiB: 80},
		NumGPUs: 4,
		Config: planner.Config{Model: model, TensorParallelSize: 2, MaxModelLen: 8192, GPUsUsed: 2, Replicas: 2,
			Args: args},
	}
}

func TestServeArgs(t *testing.T) {
	got := ServeArgs(plan("org/m"), Options{Revision: "v1", Port: 9000})
	want := []string{"org/m", "--tensor-parallel-size", "2", "--max-model-len", "8192", "--kv-cache-dtype", "fp8",
		"--served-model-name", "org/m", "--enable-prefix-caching", "--revision", "v1", "--port", "9000"}
	if !slices.Equal(got, want) {
		t.Errorf("ServeArgs = %q\nwant %q", got, want)
	}
	got = ContainerArgs(plan("org/m"), Options{LocalModelDir: "/data/models/My Model/"})
	want = []string{"--model", "/model", "--served-model-name", "My Model", "--tensor-parallel-size", "2", "--max-model-len", "8192",
		"--kv-cache-dtype", "fp8", "--served-model-name", "org/m", "--enable-prefix-caching"}
	if !slices.Equal(got, want) {
		t.Errorf("ContainerArgs = %q\nwant %q", got, want)
	}
}

// fakeBin writes an executable name into a new folder that prints its
// arguments NUL-separated (so arguments holding newlines stay apart).
func fakeBin(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\nprintf '%s\\0' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runScript checks the script's syntax with bash -n, runs it with a fake
// program on PATH in an empty working folder, and returns the fake's argv.
// It fails when the script created any file.
func runScript(t *testing.T, script []byte, fake string) []string {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	sdir := t.TempDir()
	path := filepath.Join(sdir, "script.sh")
	if err := os.WriteFile(path, script, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s\n--- script ---\n%s", err, out, script)
	}
	work, home := t.TempDir(), t.TempDir()
	cmd := exec.Command("bash", path)
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + fakeBin(t, fake) + ":/usr/bin:/bin", "HOME=" + home, "HF_TOKEN=hf_secret_value"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\nstderr: %s\n--- script ---\n%s", err, stderr.String(), script)
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
	for _, d := range []string{work, home, sdir} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if e.Name() != "script.sh" {
				t.Errorf("the script created %s", filepath.Join(d, e.Name()))
			}
		}
	}
	out := stdout.String()
	if !strings.HasSuffix(out, "\x00") {
		t.Fatalf("fake %s output %q is not NUL-terminated", fake, out)
	}
	return strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
}

func TestServeScriptHostile(t *testing.T) {
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			resp := plan(tc.value)
			script, err := ServeScript(resp, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := runScript(t, script, "vllm")
			want := append([]string{"serve", tc.value}, "--tensor-parallel-size", "2", "--max-model-len", "8192", "--kv-cache-dtype", "fp8",
				"--served-model-name", tc.value, "--enable-prefix-caching")
			if !slices.Equal(got, want) {
				t.Errorf("vllm argv = %q\nwant %q\n--- script ---\n%s", got, want, script)
			}
		})
	}
}

func TestDockerScriptHostile(t *testing.T) {
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			resp := plan(tc.value)
			opt := Options{Image: "registry.example/vllm:v1;$(touch${IFS}pwned)`touch${IFS}pwned`", Port: 8080, Name: "llm"}
			script, err := DockerScript(resp, opt)
			if err != nil {
				t.Fatal(err)
			}
			got := runScript(t, script, "docker")
			home := "" // the fake ran with its own HOME; compare the mount's suffix
			if len(got) > 10 {
				home = strings.TrimSuffix(got[10], "/.cache/huggingface:/root/.cache/huggingface")
			}
			want := []string{"run", "--rm", "--name", "llm", "--gpus", `"device=0,1"`, "--ipc=host", "-p", "8080:8080",
				"-v", home + "/.cache/huggingface:/root/.cache/huggingface", "-e", "HF_TOKEN", opt.Image,
				"--model", tc.value, "--tensor-parallel-size", "2", "--max-model-len", "8192", "--kv-cache-dtype", "fp8",
				"--served-model-name", tc.value, "--enable-prefix-caching", "--port", "8080"}
			if !slices.Equal(got, want) {
				t.Errorf("docker argv = %q\nwant %q\n--- script ---\n%s", got, want, script)
			}
			if !filepath.IsAbs(home) {
				t.Errorf("~ in the cache volume was not expanded: %q", got[10])
			}
			if bytes.Contains(script, []byte("hf_secret_value")) {
				t.Error("the script holds the token value")
			}
		})
	}
}

func TestDockerGPUs(t *testing.T) {
	tests := []struct {
		name       string
		used, have int
		want       string
	}{
		{"every GPU", 4, 4, "all"},
		{"a subset leaves the rest for replicas", 2, 8, `"device=0,1"`},
		{"one of two", 1, 2, `"device=0"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := plan("org/m")
			resp.Config.GPUsUsed, resp.NumGPUs = tc.used, tc.have
			if got := dockerGPUs(resp); got != tc.want {
				t.Errorf("dockerGPUs = %q, want %q", got, tc.want)
			}
		})
	}
}

// shape replaces every scalar of a decoded YAML value by its Go type, so two
// documents with the same structure have equal shapes.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			m[k] = shape(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = shape(e)
		}
		return s
	}
	return fmt.Sprintf("%T", v)
}

func decodeAll(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("decode: %v\n%s", err, data)
		}
		docs = append(docs, d)
	}
}

// get walks a decoded YAML value by map keys and list indexes.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not a mapping at %q", path, k)
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				t.Fatalf("%v: no item %d", path, k)
			}
			v = s[k]
		}
	}
	return v
}

func strs(t *testing.T, v any) []string {
	t.Helper()
	s, ok := v.([]any)
	if !ok {
		t.Fatalf("%v is not a list", v)
	}
	out := make([]string, len(s))
	for i, e := range s {
		if out[i], ok = e.(string); !ok {
			t.Fatalf("item %d = %#v is not a string", i, e)
		}
	}
	return out
}

func unescape(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ReplaceAll(s, "$$", "$")
	}
	return out
}

func TestComposeHostile(t *testing.T) {
	benign, err := Compose(plan("org/model"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := shape(decodeAll(t, benign))
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			resp := plan(tc.value)
			data, err := Compose(resp, Options{})
			if err != nil {
				t.Fatal(err)
			}
			docs := decodeAll(t, data)
			if got := shape(docs); !reflect.DeepEqual(got, want) {
				t.Fatalf("structure changed:\n%v\nwant\n%v\n%s", got, want, data)
			}
			cmd := strs(t, get(t, docs[0], "services", "vllm", "command"))
			if cmd[1] != strings.ReplaceAll(tc.value, "$", "$$") {
				t.Errorf("model scalar = %q, want %q", cmd[1], tc.value)
			}
			if got := unescape(cmd); !slices.Equal(got, ContainerArgs(resp, Options{})) {
				t.Errorf("command after Compose interpolation = %q\nwant %q", got, ContainerArgs(resp, Options{}))
			}
			if n := get(t, docs[0], "services", "vllm", "deploy", "resources", "reservations", "devices", 0, "count"); n != 2 {
				t.Errorf("GPU count = %v, want 2", n)
			}
		})
	}
}

func TestKubernetesHostile(t *testing.T) {
	benign, err := Kubernetes(plan("org/model"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := shape(decodeAll(t, benign))
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			resp := plan(tc.value)
			data, err := Kubernetes(resp, Options{})
			if err != nil {
				t.Fatal(err)
			}
			docs := decodeAll(t, data)
			if got := shape(docs); !reflect.DeepEqual(got, want) {
				t.Fatalf("structure changed:\n%v\nwant\n%v\n%s", got, want, data)
			}
			if len(docs) != 2 || docs[0]["kind"] != "Deployment" || docs[1]["kind"] != "Service" {
				t.Fatalf("documents: %v", docs)
			}
			c := get(t, docs[0], "spec", "template", "spec", "containers", 0)
			args := strs(t, get(t, c, "args"))
			if args[1] != strings.ReplaceAll(tc.value, "$", "$$") {
				t.Errorf("model scalar = %q, want %q", args[1], tc.value)
			}
			if got := unescape(args); !slices.Equal(got, ContainerArgs(resp, Options{})) {
				t.Errorf("args after Kubernetes expansion = %q\nwant %q", got, ContainerArgs(resp, Options{}))
			}
			if n := get(t, c, "resources", "limits", "nvidia.com/gpu"); n != 2 {
				t.Errorf("GPU limit = %v, want 2", n)
			}
		})
	}
}

func TestKubernetesFields(t *testing.T) {
	data, err := Kubernetes(plan("org/model"), Options{Port: 9000, Name: "chat", HFTokenSecret: "my-hf"})
	if err != nil {
		t.Fatal(err)
	}
	docs := decodeAll(t, data)
	c := get(t, docs[0], "spec", "template", "spec", "containers", 0)
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"readiness path", get(t, c, "readinessProbe", "httpGet", "path"), "/health"},
		{"readiness port", get(t, c, "readinessProbe", "httpGet", "port"), 9000},
		{"container port", get(t, c, "ports", 0, "containerPort"), 9000},
		{"token env", get(t, c, "env", 0, "name"), "HF_TOKEN"},
		{"token secret", get(t, c, "env", 0, "valueFrom", "secretKeyRef", "name"), "my-hf"},
		{"token key", get(t, c, "env", 0, "valueFrom", "secretKeyRef", "key"), HFTokenSecretKey},
		{"token optional", get(t, c, "env", 0, "valueFrom", "secretKeyRef", "optional"), true},
		{"shm mount", get(t, c, "volumeMounts", 0, "mountPath"), "/dev/shm"},
		{"shm medium", get(t, docs[0], "spec", "template", "spec", "volumes", 0, "emptyDir", "medium"), "Memory"},
		{"deployment name", get(t, docs[0], "metadata", "name"), "chat"},
		{"service port", get(t, docs[1], "spec", "ports", 0, "port"), 9000},
		{"selector matches pod", get(t, docs[1], "spec", "selector", "app.kubernetes.io/name"), get(t, docs[0], "spec", "template", "metadata", "labels", "app.kubernetes.io/name")},
		{"port arg", strs(t, get(t, c, "args")), ContainerArgs(plan("org/model"), Options{Port: 9000})},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
}

func TestLocalModelMount(t *testing.T) {
	dir := `/srv/models/a,b "c" $(touch pwned)` + "\n:x"
	resp := plan(dir)
	opt := Options{LocalModelDir: dir}

	script, err := DockerScript(resp, opt)
	if err != nil {
		t.Fatal(err)
	}
	argv := runScript(t, script, "docker")
	i := slices.Index(argv, "--mount")
	if i < 0 {
		t.Fatalf("no --mount in %q", argv)
	}
	// docker reads --mount as one CSV record.
	fields, err := csv.NewReader(strings.NewReader(argv[i+1])).Read()
	if err != nil {
		t.Fatalf("--mount %q: %v", argv[i+1], err)
	}
	wantFields := []string{"type=bind", "source=" + dir, "target=" + ContainerModelDir, "readonly"}
	if !slices.Equal(fields, wantFields) {
		t.Errorf("--mount fields = %q, want %q", fields, wantFields)
	}
	if j := slices.Index(argv, "--model"); j < 0 || argv[j+1] != ContainerModelDir {
		t.Errorf("container does not serve %s: %q", ContainerModelDir, argv)
	}

	data, err := Compose(resp, opt)
	if err != nil {
		t.Fatal(err)
	}
	docs := decodeAll(t, data)
	vol := get(t, docs[0], "services", "vllm", "volumes", 1)
	if src := get(t, vol, "source"); src != strings.ReplaceAll(dir, "$", "$$") {
		t.Errorf("compose bind source = %q", src)
	}
	if ro := get(t, vol, "read_only"); ro != true {
		t.Errorf("compose bind read_only = %v", ro)
	}

	data, err = Kubernetes(resp, opt)
	if err != nil {
		t.Fatal(err)
	}
	docs = decodeAll(t, data)
	if p := get(t, docs[0], "spec", "template", "spec", "volumes", 2, "hostPath", "path"); p != dir {
		t.Errorf("hostPath = %q, want %q", p, dir)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		opt     Options
		mutate  func(*planner.Response)
		wantErr string
	}{
		{"defaults", Options{}, nil, ""},
		{"port too high", Options{Port: 70000}, nil, "port 70000"},
		{"name not a DNS label", Options{Name: "My_Server"}, nil, "DNS label"},
		{"secret with a slash", Options{HFTokenSecret: "a/b"}, nil, "DNS subdomain"},
		{"image with a newline", Options{Image: "vllm\n--privileged"}, nil, "white space"},
		{"revision looks like a flag", Options{Revision: "--trust-remote-code"}, nil, "starts with '-'"},
		{"model looks like a flag", Options{}, func(r *planner.Response) { r.Config.Model = "--trust-remote-code" }, "starts with '-'"},
		{"no model", Options{}, func(r *planner.Response) { r.Config.Model = "" }, "no model"},
		{"arg not a flag", Options{}, func(r *planner.Response) { r.Config.Args[0].Flag = "; touch x" }, "not a --flag"},
		{"no GPUs", Options{}, func(r *planner.Response) { r.Config.GPUsUsed = 0 }, "uses 0 GPUs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := plan("org/m")
			if tc.mutate != nil {
				tc.mutate(resp)
			}
			for _, k := range Kinds {
				_, err := Render(k, resp, tc.opt)
				if tc.wantErr == "" && err != nil {
					t.Errorf("%s: %v", k, err)
				}
				if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
					t.Errorf("%s: error %v, want one containing %q", k, err, tc.wantErr)
				}
			}
		})
	}
	if _, err := Render("helm", plan("org/m"), Options{}); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("Render(helm) = %v, want ErrUnknownKind", err)
	}
}

func TestKindsFileNames(t *testing.T) {
	var names []string
	for _, k := range Kinds {
		if k.FileName() == "" {
			t.Errorf("%s has no file name", k)
		}
		names = append(names, k.FileName())
	}
	sort.Strings(names)
	if want := []string{"docker-compose.yaml", "docker_run.sh", "k8s.yaml", "serve_command.sh"}; !slices.Equal(names, want) {
		t.Errorf("file names = %q, want %q", names, want)
	}
}
