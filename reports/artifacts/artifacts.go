package artifacts

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/vllm-wizard/vllm-wizard/reports"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// Kind names one rendered artifact.
type Kind string

// Artifact kinds, named as on the command line (--emit).
const (
	KindCommand Kind = "command"
	KindDocker  Kind = "docker"
	KindCompose Kind = "compose"
	KindK8s     Kind = "k8s"
)

// Kinds lists every artifact kind in output order.
var Kinds = []Kind{KindCommand, KindDocker, KindCompose, KindK8s}

// ErrUnknownKind is returned by Render for a kind not in Kinds.
var ErrUnknownKind = errors.New("unknown artifact kind")

// FileName is the file an artifact kind is written to.
func (k Kind) FileName() string {
	switch k {
	case KindCommand:
		return "serve_command.sh"
	case KindDocker:
		return "docker_run.sh"
	case KindCompose:
		return "docker-compose.yaml"
	case KindK8s:
		return "k8s.yaml"
	}
	return ""
}

// Executable reports whether the artifact is a script to be made executable.
func (k Kind) Executable() bool { return k == KindCommand || k == KindDocker }

// HFTokenSecretKey is the key of the Kubernetes Secret holding the Hugging
// Face token.
const HFTokenSecretKey = "token"

// ContainerModelDir is where a local model folder is mounted in a container.
const ContainerModelDir = "/model"

// defaultPort is vLLM's own default port (no --port argument needed).
const defaultPort = 8000

// Options are the deployment choices a plan does not make.
type Options struct {
	// Image is the container image ("" = vllm/vllm-openai:latest for
	// NVIDIA GPUs, ROCmImage for AMD ones).
	Image string
	// Port is the port the server listens on and is published on.
	Port int
	// Name names the container, Compose service, Deployment and Service
	// (a DNS label).
	Name string
	// HFTokenSecret is the Kubernetes Secret that holds HF_TOKEN.
	HFTokenSecret string
	// Revision is the Hub revision to serve ("" = the default branch).
	Revision string
	// LocalModelDir is the host folder of a local model ("" = a Hub model);
	// containers mount it read-only at ContainerModelDir.
	LocalModelDir string
}

// DefaultOptions are the options used for zero fields.
var DefaultOptions = Options{Image: "vllm/vllm-openai:latest", Port: defaultPort, Name: "vllm", HFTokenSecret: "hf-token"}

var (
	dnsLabel     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`) })
	dnsSubdomain = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	})
	flagName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^--[a-zA-Z0-9][-a-zA-Z0-9_]*$`) })
)

func (o Options) withDefaults() Options {
	if o.Port == 0 {
		o.Port = DefaultOptions.Port
	}
	if o.Name == "" {
		o.Name = DefaultOptions.Name
	}
	if o.HFTokenSecret == "" {
		o.HFTokenSecret = DefaultOptions.HFTokenSecret
	}
	return o
}

// Validate checks the options; zero fields take DefaultOptions' values.
func (o Options) Validate() error {
	o = o.withDefaults()
	switch {
	case o.Port < 1 || o.Port > 65535:
		return fmt.Errorf("port %d must be between 1 and 65535", o.Port)
	case !dnsLabel().MatchString(o.Name):
		return fmt.Errorf("name %q must be a DNS label: lower-case letters, digits and '-', at most 63 characters", o.Name)
	case len(o.HFTokenSecret) > 253 || !dnsSubdomain().MatchString(o.HFTokenSecret):
		return fmt.Errorf("secret name %q must be a DNS subdomain: lower-case letters, digits, '-' and '.'", o.HFTokenSecret)
	case strings.ContainsAny(o.Image, " \t\r\n"):
		return fmt.Errorf("image %q contains white space", o.Image)
	case strings.HasPrefix(o.Revision, "-"):
		return fmt.Errorf("revision %q starts with '-'", o.Revision)
	}
	return nil
}

// check validates a plan and options together.
func check(resp *planner.Response, opt Options) (Options, error) {
	opt = opt.withDefaults()
	if err := opt.Validate(); err != nil {
		return opt, err
	}
	if resp.Config.NoCommandReason != "" {
		return opt, fmt.Errorf("%w: %s", ErrNoCommand, resp.Config.NoCommandReason)
	}
	vendor, err := vendorOf(resp)
	if err != nil {
		return opt, err
	}
	if opt.Image == "" {
		opt.Image = DefaultOptions.Image
		if vendor == planner.VendorAMD {
			opt.Image = ROCmImage
		}
	}
	m := resp.Config.Model
	switch {
	case m == "":
		return opt, errors.New("the plan names no model")
	case strings.HasPrefix(m, "-"):
		return opt, fmt.Errorf("model %q starts with '-', which vllm would read as an option", m)
	case resp.Config.GPUsUsed < 1:
		return opt, fmt.Errorf("the plan uses %d GPUs", resp.Config.GPUsUsed)
	}
	for _, a := range resp.Config.Args {
		if !flagName().MatchString(a.Flag) {
			return opt, fmt.Errorf("argument %q is not a --flag", a.Flag)
		}
	}
	if err := CheckServeArgs(flatten(argGroups(resp, opt)), false); err != nil {
		return opt, fmt.Errorf("%w: %w", ErrNoCommand, err)
	}
	return opt, nil
}

// argGroups returns the plan's vLLM options, one group per option (the flag
// and its value), a repeated flag keeping its first value,
// then --revision and --port when they are not vLLM's defaults.
func argGroups(resp *planner.Response, opt Options) [][]string {
	var out [][]string
	seen := map[string]bool{}
	for _, a := range resp.Config.Args {
		if seen[a.Flag] {
			continue
		}
		seen[a.Flag] = true
		g := []string{a.Flag}
		if a.Value != "" {
			g = append(g, a.Value)
		}
		out = append(out, g)
	}
	if opt.Revision != "" {
		out = append(out, []string{"--revision", opt.Revision})
	}
	if opt.Port != defaultPort {
		out = append(out, []string{"--port", strconv.Itoa(opt.Port)})
	}
	return out
}

// serveGroups is what follows `vllm serve`: the model, then the options.
func serveGroups(resp *planner.Response, opt Options) [][]string {
	return append([][]string{{resp.Config.Model}}, argGroups(resp, opt)...)
}

// containerGroups is what the vllm/vllm-openai image gets: --model (works
// with both its older api_server and its newer `vllm serve` entrypoint),
// then the options. A local model is served from its mount point under its
// folder's name.
func containerGroups(resp *planner.Response, opt Options) [][]string {
	groups := [][]string{{"--model", resp.Config.Model}}
	if opt.LocalModelDir != "" {
		groups = [][]string{{"--model", ContainerModelDir}, {"--served-model-name", path.Base(strings.TrimRight(opt.LocalModelDir, "/"))}}
	}
	return append(groups, argGroups(resp, opt)...)
}

func flatten(groups [][]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// ServeArgs returns the arguments after `vllm serve` in serve_command.sh.
func ServeArgs(resp *planner.Response, opt Options) []string {
	return flatten(serveGroups(resp, opt.withDefaults()))
}

// ContainerArgs returns the arguments given to the container image in
// docker_run.sh, docker-compose.yaml and k8s.yaml (before Compose and
// Kubernetes `$` escaping).
func ContainerArgs(resp *planner.Response, opt Options) []string {
	return flatten(containerGroups(resp, opt.withDefaults()))
}

// Render renders one artifact kind.
func Render(kind Kind, resp *planner.Response, opt Options) ([]byte, error) {
	switch kind {
	case KindCommand:
		return ServeScript(resp, opt)
	case KindDocker:
		return DockerScript(resp, opt)
	case KindCompose:
		return Compose(resp, opt)
	case KindK8s:
		return Kubernetes(resp, opt)
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownKind, kind)
}

// comment renders s for a one-line comment: Go-quoted ASCII, so no line
// break (or anything else) can end the comment.
func comment(s string) string { return strconv.QuoteToASCII(s) }

// summary is the comment line that says what was planned.
func summary(resp *planner.Response) string {
	return fmt.Sprintf("# Model %s on %d x %s GPUs, tensor parallel %d; max model len %d.\n",
		comment(resp.Config.Model), resp.Config.GPUsUsed, comment(resp.GPU.Name), resp.Config.TensorParallelSize, resp.Config.MaxModelLen)
}

// writeGroups writes each group on its own continuation line, every word
// shell-quoted.
func writeGroups(b *bytes.Buffer, groups [][]string) {
	for _, g := range groups {
		b.WriteString(" \\\n  ")
		for i, w := range g {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(reports.ShellQuote(w))
		}
	}
}

// endCommand ends a command with "$@", so a script's own arguments reach
// vllm.
func endCommand(b *bytes.Buffer) { b.WriteString(" \\\n  \"$@\"\n") }

// ServeScript renders serve_command.sh: `exec vllm serve` with the plan's
// arguments.
func ServeScript(resp *planner.Response, opt Options) ([]byte, error) {
	opt, err := check(resp, opt)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("#!/usr/bin/env bash\n")
	b.WriteString("# Generated by vllm-wizard: starts the vLLM OpenAI-compatible server on this machine.\n")
	b.WriteString(summary(resp))
	b.WriteString("# Arguments given to this script are passed on to vllm serve.\n")
	b.WriteString("set -euo pipefail\n\n")
	b.WriteString("exec vllm serve")
	writeGroups(&b, serveGroups(resp, opt))
	endCommand(&b)
	return b.Bytes(), nil
}

// dockerGPUs is the value of docker run --gpus: all when the plan uses
// every GPU, else the first GPUsUsed devices.
func dockerGPUs(resp *planner.Response) string {
	n := resp.Config.GPUsUsed
	if n >= resp.NumGPUs {
		return "all"
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	// The inner quotes stop docker from splitting the list at its commas.
	return `"device=` + strings.Join(ids, ",") + `"`
}

// hipDevices lists the first GPUsUsed AMD devices when the plan leaves
// some free ("" = all).
func hipDevices(resp *planner.Response) string {
	n := resp.Config.GPUsUsed
	if n >= resp.NumGPUs {
		return ""
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	return strings.Join(ids, ",")
}

// bindMount is a docker --mount value; docker reads it as one CSV record,
// so fields are CSV-quoted where needed.
func bindMount(src, dst string) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"type=bind", "source=" + src, "target=" + dst, "readonly"}) // a bytes.Buffer cannot fail
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

// hfCacheVolume mounts the host's Hugging Face cache (the shell and Compose
// expand the ~).
const hfCacheVolume = "~/.cache/huggingface:/root/.cache/huggingface"

// DockerScript renders docker_run.sh: `exec docker run` of the vLLM image.
func DockerScript(resp *planner.Response, opt Options) ([]byte, error) {
	opt, err := check(resp, opt)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("#!/usr/bin/env bash\n")
	b.WriteString("# Generated by vllm-wizard: runs the vLLM OpenAI-compatible server in Docker.\n")
	b.WriteString(summary(resp))
	if resp.NumGPUs > resp.Config.GPUsUsed {
		fmt.Fprintf(&b, "# The plan uses %d of %d GPUs; run more replicas on the others with other --gpus devices and ports.\n", resp.Config.GPUsUsed, resp.NumGPUs)
	}
	b.WriteString("# HF_TOKEN is passed from your environment by name: export it first for gated models.\n")
	b.WriteString("# Arguments given to this script are passed on to vllm serve.\n")
	b.WriteString("set -euo pipefail\n\n")
	port := strconv.Itoa(opt.Port)
	b.WriteString("exec docker run")
	devices := [][]string{{"--gpus", dockerGPUs(resp)}}
	if resp.GPU.VendorKind() == planner.VendorAMD {
		// ROCm containers get the kernel driver and render nodes, the video
		// group that owns them, and ROCm's unconfined seccomp profile.
		devices = [][]string{{"--device", "/dev/kfd"}, {"--device", "/dev/dri"}, {"--group-add", "video"}, {"--security-opt", "seccomp=unconfined"}}
		if ids := hipDevices(resp); ids != "" {
			devices = append(devices, []string{"-e", "HIP_VISIBLE_DEVICES=" + ids})
		}
	}
	writeGroups(&b, append(append([][]string{{"--rm"}, {"--name", opt.Name}}, devices...), []string{"--ipc=host"}, []string{"-p", port + ":" + port}))
	// Unquoted so that the shell expands the ~.
	b.WriteString(" \\\n  -v " + hfCacheVolume)
	if opt.LocalModelDir != "" {
		writeGroups(&b, [][]string{{"--mount", bindMount(opt.LocalModelDir, ContainerModelDir)}})
	}
	writeGroups(&b, [][]string{{"-e", "HF_TOKEN"}, {opt.Image}})
	writeGroups(&b, containerGroups(resp, opt))
	endCommand(&b)
	return b.Bytes(), nil
}

// escapeDollar doubles every `$`: Compose interpolates ${VAR} and
// Kubernetes expands $(VAR) in args, and both read `$$` as one `$`.
func escapeDollar(s string) string { return strings.ReplaceAll(s, "$", "$$") }

func escapeAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = escapeDollar(s)
	}
	return out
}

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image       string         `yaml:"image"`
	Command     []string       `yaml:"command,flow"`
	Ports       []quoted       `yaml:"ports"`
	Volumes     []any          `yaml:"volumes"`
	Environment []string       `yaml:"environment"`
	IPC         string         `yaml:"ipc"`
	Restart     string         `yaml:"restart"`
	Devices     []string       `yaml:"devices,omitempty"`
	GroupAdd    []string       `yaml:"group_add,omitempty"`
	SecurityOpt []string       `yaml:"security_opt,omitempty"`
	Deploy      *composeDeploy `yaml:"deploy,omitempty"`
}

// quoted is a string always written double-quoted, as Compose advises for
// port mappings (YAML 1.1 reads some, such as 22:22, as base-60 numbers).
type quoted string

// MarshalYAML writes q as a double-quoted string.
func (q quoted) MarshalYAML() (any, error) {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: string(q)}, nil
}

type composeBind struct {
	Type     string `yaml:"type"`
	Source   string `yaml:"source"`
	Target   string `yaml:"target"`
	ReadOnly bool   `yaml:"read_only"`
}

type composeDeploy struct {
	Resources struct {
		Reservations struct {
			Devices []composeDevice `yaml:"devices"`
		} `yaml:"reservations"`
	} `yaml:"resources"`
}

type composeDevice struct {
	Driver       string   `yaml:"driver"`
	Count        int      `yaml:"count"`
	Capabilities []string `yaml:"capabilities,flow"`
}

// EncodeYAML appends docs to b as YAML documents indented by two spaces, the
// style of every YAML file vllm-wizard writes (Compose, Kubernetes, profiles).
func EncodeYAML(b *bytes.Buffer, docs ...any) error {
	enc := yaml.NewEncoder(b)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return fmt.Errorf("encode yaml: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode yaml: %w", err)
	}
	return nil
}

// Compose renders docker-compose.yaml: one service with the GPUs reserved.
func Compose(resp *planner.Response, opt Options) ([]byte, error) {
	opt, err := check(resp, opt)
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(opt.Port)
	svc := composeService{
		Image:       escapeDollar(opt.Image),
		Command:     escapeAll(ContainerArgs(resp, opt)),
		Ports:       []quoted{quoted(port + ":" + port)},
		Volumes:     []any{hfCacheVolume},
		Environment: []string{"HF_TOKEN"},
		IPC:         "host",
		Restart:     "unless-stopped",
	}
	if opt.LocalModelDir != "" {
		svc.Volumes = append(svc.Volumes, composeBind{Type: "bind", Source: escapeDollar(opt.LocalModelDir), Target: ContainerModelDir, ReadOnly: true})
	}
	if resp.GPU.VendorKind() == planner.VendorAMD {
		svc.Devices, svc.GroupAdd, svc.SecurityOpt = []string{"/dev/kfd", "/dev/dri"}, []string{"video"}, []string{"seccomp=unconfined"}
		if ids := hipDevices(resp); ids != "" {
			svc.Environment = append(svc.Environment, "HIP_VISIBLE_DEVICES="+ids)
		}
	} else {
		svc.Deploy = &composeDeploy{}
		svc.Deploy.Resources.Reservations.Devices = []composeDevice{{Driver: "nvidia", Count: resp.Config.GPUsUsed, Capabilities: []string{"gpu"}}}
	}
	var b bytes.Buffer
	b.WriteString("# Generated by vllm-wizard: the vLLM OpenAI-compatible server as a Compose service.\n")
	b.WriteString(summary(resp))
	b.WriteString("# HF_TOKEN is taken from your environment by name. Start: docker compose up -d\n")
	if err := EncodeYAML(&b, composeFile{Services: map[string]composeService{opt.Name: svc}}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type k8sMeta struct {
	Name   string            `yaml:"name"`
	Labels map[string]string `yaml:"labels,omitempty"`
}

type k8sDeployment struct {
	APIVersion string  `yaml:"apiVersion"`
	Kind       string  `yaml:"kind"`
	Metadata   k8sMeta `yaml:"metadata"`
	Spec       struct {
		Replicas int `yaml:"replicas"`
		Strategy struct {
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []k8sContainer `yaml:"containers"`
				Volumes    []k8sVolume    `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type k8sContainer struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env       []k8sEnv `yaml:"env"`
	Resources struct {
		Limits map[string]int `yaml:"limits"`
	} `yaml:"resources"`
	ReadinessProbe struct {
		HTTPGet struct {
			Path string `yaml:"path"`
			Port int    `yaml:"port"`
		} `yaml:"httpGet"`
		InitialDelaySeconds int `yaml:"initialDelaySeconds"`
		PeriodSeconds       int `yaml:"periodSeconds"`
	} `yaml:"readinessProbe"`
	VolumeMounts []k8sVolumeMount `yaml:"volumeMounts"`
}

type k8sEnv struct {
	Name      string `yaml:"name"`
	ValueFrom struct {
		SecretKeyRef struct {
			Name     string `yaml:"name"`
			Key      string `yaml:"key"`
			Optional bool   `yaml:"optional"`
		} `yaml:"secretKeyRef"`
	} `yaml:"valueFrom"`
}

type k8sVolumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	ReadOnly  bool   `yaml:"readOnly,omitempty"`
}

type k8sVolume struct {
	Name     string       `yaml:"name"`
	EmptyDir *k8sEmptyDir `yaml:"emptyDir,omitempty"`
	HostPath *k8sHostPath `yaml:"hostPath,omitempty"`
}

type k8sEmptyDir struct {
	Medium string `yaml:"medium,omitempty"`
}

type k8sHostPath struct {
	Path string `yaml:"path"`
	Type string `yaml:"type"`
}

type k8sService struct {
	APIVersion string  `yaml:"apiVersion"`
	Kind       string  `yaml:"kind"`
	Metadata   k8sMeta `yaml:"metadata"`
	Spec       struct {
		Type     string            `yaml:"type"`
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

// Kubernetes renders k8s.yaml: a Deployment and a Service.
func Kubernetes(resp *planner.Response, opt Options) ([]byte, error) {
	opt, err := check(resp, opt)
	if err != nil {
		return nil, err
	}
	labels := func() map[string]string { return map[string]string{"app.kubernetes.io/name": opt.Name} }
	var d k8sDeployment
	d.APIVersion, d.Kind = "apps/v1", "Deployment"
	d.Metadata = k8sMeta{Name: opt.Name, Labels: labels()}
	d.Spec.Replicas = 1
	// GPUs are rarely free for a rolling update's second pod.
	d.Spec.Strategy.Type = "Recreate"
	d.Spec.Selector.MatchLabels = labels()
	d.Spec.Template.Metadata.Labels = labels()

	c := k8sContainer{Name: "vllm", Image: opt.Image, Args: escapeAll(ContainerArgs(resp, opt))}
	c.Ports = append(c.Ports, struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	}{"http", opt.Port})
	var env k8sEnv
	env.Name = "HF_TOKEN"
	env.ValueFrom.SecretKeyRef.Name = opt.HFTokenSecret
	env.ValueFrom.SecretKeyRef.Key = HFTokenSecretKey
	env.ValueFrom.SecretKeyRef.Optional = true
	c.Env = []k8sEnv{env}
	gpuResource := "nvidia.com/gpu"
	if resp.GPU.VendorKind() == planner.VendorAMD {
		gpuResource = "amd.com/gpu" // the ROCm k8s-device-plugin's resource
	}
	c.Resources.Limits = map[string]int{gpuResource: resp.Config.GPUsUsed}
	c.ReadinessProbe.HTTPGet.Path = "/health"
	c.ReadinessProbe.HTTPGet.Port = opt.Port
	c.ReadinessProbe.InitialDelaySeconds = 30
	c.ReadinessProbe.PeriodSeconds = 10
	c.VolumeMounts = []k8sVolumeMount{{Name: "shm", MountPath: "/dev/shm"}, {Name: "hf-cache", MountPath: "/root/.cache/huggingface"}}
	vols := []k8sVolume{{Name: "shm", EmptyDir: &k8sEmptyDir{Medium: "Memory"}}, {Name: "hf-cache", EmptyDir: &k8sEmptyDir{}}}
	if opt.LocalModelDir != "" {
		c.VolumeMounts = append(c.VolumeMounts, k8sVolumeMount{Name: "model", MountPath: ContainerModelDir, ReadOnly: true})
		vols = append(vols, k8sVolume{Name: "model", HostPath: &k8sHostPath{Path: opt.LocalModelDir, Type: "Directory"}})
	}
	d.Spec.Template.Spec.Containers = []k8sContainer{c}
	d.Spec.Template.Spec.Volumes = vols

	var s k8sService
	s.APIVersion, s.Kind = "v1", "Service"
	s.Metadata = k8sMeta{Name: opt.Name, Labels: labels()}
	s.Spec.Type = "ClusterIP"
	s.Spec.Selector = labels()
	s.Spec.Ports = append(s.Spec.Ports, struct {
		Name       string `yaml:"name"`
		Port       int    `yaml:"port"`
		TargetPort string `yaml:"targetPort"`
	}{"http", opt.Port, "http"})

	var b bytes.Buffer
	b.WriteString("# Generated by vllm-wizard: the vLLM OpenAI-compatible server as a Deployment and a Service.\n")
	b.WriteString(summary(resp))
	fmt.Fprintf(&b, "# HF_TOKEN comes from the Secret %s (key %s), if it exists:\n", opt.HFTokenSecret, HFTokenSecretKey)
	fmt.Fprintf(&b, "#   kubectl create secret generic %s --from-literal=%s=\"$HF_TOKEN\"\n", opt.HFTokenSecret, HFTokenSecretKey)
	b.WriteString("# The Hugging Face cache is an emptyDir: use a PersistentVolumeClaim to keep downloads across restarts.\n")
	if opt.LocalModelDir != "" {
		b.WriteString("# The local model folder is mounted from the node (hostPath): it must exist on every node that can run the pod.\n")
	}
	b.WriteString("# Apply: kubectl apply -f k8s.yaml\n")
	if err := EncodeYAML(&b, d, s); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
