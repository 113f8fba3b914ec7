package artifacts

import (
	"cmp"
	"fmt"
	"github.com/vllm-wizard/vllm-wizard/reports"
	"path/filepath"
	"strings"
)

// NextSteps is what generate prints after writing files to dir: each file
// with what it is, then how to run what was written. profileFile is the
// name of the profile among files ("" for none).
func NextSteps(dir string, files []string, profileFile string, opt Options) string {
	cmd, docker, compose, k8s := KindCommand.FileName(), KindDocker.FileName(), KindCompose.FileName(), KindK8s.FileName()
	what := map[string]string{
		cmd:     "vllm serve on this machine (vLLM installed)",
		docker:  "docker run of " + cmp.Or(opt.Image, "the vLLM image for the GPU's vendor"),
		compose: "a Docker Compose service",
		k8s:     "a Kubernetes Deployment and Service",
	}
	if profileFile != "" {
		what[profileFile] = "the inputs of this plan: vllm-wizard plan --profile"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Wrote %d file(s) to %s:\n", len(files), dir)
	has := map[string]bool{}
	for _, name := range files {
		has[name] = true
		fmt.Fprintf(&b, "  %-20s %s\n", name, what[name])
	}
	q := func(name string) string { return reports.ShellQuote(filepath.Join(dir, name)) }
	b.WriteString("\nNext steps:\n")
	if has[cmd] || has[docker] || has[compose] || has[k8s] {
		b.WriteString("  Gated models need a Hugging Face token:  export HF_TOKEN=hf_...\n")
	}
	if has[cmd] {
		fmt.Fprintf(&b, "  Run on this machine:  %s\n", q(cmd))
	}
	if has[docker] {
		fmt.Fprintf(&b, "  Run in Docker:        %s\n", q(docker))
	}
	if has[compose] {
		fmt.Fprintf(&b, "  Run with Compose:     docker compose -f %s up -d\n", q(compose))
	}
	if has[k8s] {
		fmt.Fprintf(&b, "  Run on Kubernetes:    kubectl create secret generic %s --from-literal=%s=\"$HF_TOKEN\"\n", opt.HFTokenSecret, HFTokenSecretKey)
		fmt.Fprintf(&b, "                        kubectl apply -f %s\n", q(k8s))
	}
	if has[cmd] || has[docker] || has[compose] {
		fmt.Fprintf(&b, "  Check it is up:       curl http://localhost:%d/v1/models\n", opt.Port)
	}
	if profileFile != "" && has[profileFile] {
		fmt.Fprintf(&b, "  Plan again:           vllm-wizard plan --profile %s\n", q(profileFile))
	}
	return b.String()
}
