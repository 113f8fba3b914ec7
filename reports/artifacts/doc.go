// Package artifacts renders the deployment files of a plan: a `vllm serve`
// script, a `docker run` script, a Docker Compose file and Kubernetes
// manifests. Rendering is pure: it takes a planner.Response and Options and
// returns bytes; the command layer writes them.
//
// Every value that comes from the plan or the options reaches a shell only
// through reports.ShellQuote and YAML only through the yaml.v3 encoder, so a
// model id such as `x; rm -rf ~` or `*a` stays one literal argument. Compose
// and Kubernetes both expand `$` in values (`${VAR}` and `$(VAR)`), so every
// `$` in an argument is written as `$$`, which both turn back into one `$`.
package artifacts
