// Package hub fetches a model's config.json from the Hugging Face Hub, the
// way huggingface_hub does: HF_ENDPOINT picks the server, HF_TOKEN
// authenticates (never printed), and files are cached on disk so later runs
// work offline.
package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports/atomicfile"
)

// DefaultEndpoint is the public Hub.
const DefaultEndpoint = "https://huggingface.co"

// ErrOffline is returned when a fetch is needed but the network is forbidden.
var ErrOffline = errors.New("offline")

// ErrNotFound is returned when the Hub has no such repository or file.
var ErrNotFound = errors.New("not found on the Hub")

// ErrUnauthorized is returned for gated or private repositories without a
// valid token.
var ErrUnauthorized = errors.New("not authorized")

// ErrBadConfig is returned when the Hub answers with something that is not
// a usable config.json: too large, cut short, or not a model config.
var ErrBadConfig = errors.New("bad config.json")

// MaxConfigBytes bounds a config.json; real ones are a few KiB.
const MaxConfigBytes = 8 << 20

// Client fetches config files.
type Client struct {
	// Endpoint is the Hub URL (HF_ENDPOINT; default https://huggingface.co).
	Endpoint string
	// Token is sent as a bearer token when set (HF_TOKEN).
	Token string
	// CacheDir holds fetched files; "" disables the cache.
	CacheDir string
	// Offline forbids network access: only the cache answers.
	Offline bool
	// HTTP is the client used (default: 30 s timeout).
	HTTP *http.Client
	// MaxBytes bounds the body (default MaxConfigBytes).
	MaxBytes int64
}

var repoIDRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$`)
})

// ValidRepoID reports whether id looks like a Hub repository id (org/name).
func ValidRepoID(id string) bool {
	return repoIDRe().MatchString(id) && !strings.Contains(id, "..")
}

// NewFromEnv builds a client from HF_ENDPOINT, HF_TOKEN (or
// HUGGING_FACE_HUB_TOKEN), HF_HUB_OFFLINE and the cache directory.
func NewFromEnv(getenv func(string) string, offline bool) *Client {
	c := &Client{Endpoint: getenv("HF_ENDPOINT"), Token: getenv("HF_TOKEN"), Offline: offline}
	if c.Token == "" {
		c.Token = getenv("HUGGING_FACE_HUB_TOKEN")
	}
	if v := getenv("HF_HUB_OFFLINE"); v == "1" || strings.EqualFold(v, "true") {
		c.Offline = true
	}
	if dir := getenv("VLLM_WIZARD_CACHE"); dir != "" {
		c.CacheDir = dir
	} else if dir, err := os.UserCacheDir(); err == nil {
		c.CacheDir = filepath.Join(dir, "vllm-wizard", "hub")
	}
	return c
}

// ConfigJSON returns config.json of repo at revision ("" = main).
func (c *Client) ConfigJSON(ctx context.Context, repo, revision string) ([]byte, error) {
	if !ValidRepoID(repo) {
		return nil, fmt.Errorf("%q is not a Hub model id (want org/name)", repo)
	}
	if revision == "" {
		revision = "main"
	}
	if strings.ContainsAny(revision, "/\\") || strings.Contains(revision, "..") {
		return nil, fmt.Errorf("revision %q: must not contain slashes or '..'", revision)
	}
	cachePath := ""
	if c.CacheDir != "" {
		cachePath = filepath.Join(c.CacheDir, filepath.FromSlash(repo), revision, "config.json")
		// A cached file that no longer parses (written by an older version, or
		// damaged) is fetched again rather than trusted.
		if data, err := os.ReadFile(cachePath); err == nil && validConfig(data) == nil {
			return data, nil
		}
	}
	if c.Offline {
		return nil, fmt.Errorf("config.json of %s@%s is not cached and the network is forbidden (--offline or HF_HUB_OFFLINE): %w", repo, revision, ErrOffline)
	}
	data, err := c.fetch(ctx, repo, revision)
	if err != nil {
		return nil, c.scrub(err)
	}
	if err := validConfig(data); err != nil {
		return nil, c.scrub(fmt.Errorf("config.json of %s@%s from %s: %w: %w", repo, revision, c.endpoint(), ErrBadConfig, err))
	}
	if cachePath != "" {
		// A cache failure is not fatal: the fetch succeeded.
		if err := os.MkdirAll(filepath.Dir(cachePath), 0o755); err == nil {
			_ = atomicfile.WriteFile(cachePath, data, atomicfile.Options{Overwrite: true})
		}
	}
	return data, nil
}

// validConfig reports whether data is a model config the planner reads.
func validConfig(data []byte) error {
	_, err := planner.ParseConfig(data)
	return err
}

// endpoint is the Hub URL without credentials, for messages.
func (c *Client) endpoint() string {
	ep := strings.TrimRight(c.Endpoint, "/")
	if ep == "" {
		return DefaultEndpoint
	}
	if u, err := url.Parse(ep); err == nil {
		return u.Redacted()
	}
	return "HF_ENDPOINT"
}

// secrets are the strings no message may hold: the token, and the userinfo
// of HF_ENDPOINT (raw and unescaped), even when the URL does not parse.
func (c *Client) secrets() []string {
	var s []string
	if c.Token != "" {
		s = append(s, c.Token)
	}
	ep := c.Endpoint
	if i := strings.Index(ep, "://"); i >= 0 {
		ep = ep[i+3:]
	}
	if i := strings.IndexAny(ep, "/?#"); i >= 0 {
		ep = ep[:i]
	}
	if i := strings.LastIndex(ep, "@"); i >= 0 {
		info := ep[:i]
		s = append(s, info)
		if _, pw, ok := strings.Cut(info, ":"); ok && pw != "" {
			s = append(s, pw)
			if u, err := url.PathUnescape(pw); err == nil && u != pw {
				s = append(s, u)
			}
			if u, err := url.QueryUnescape(pw); err == nil && u != pw {
				s = append(s, u)
			}
		}
	}
	return s
}

// scrub returns err with every secret replaced; errors.Is still sees the
// sentinels it wraps.
func (c *Client) scrub(err error) error {
	msg := err.Error()
	changed := false
	for _, sec := range c.secrets() {
		if sec != "" && strings.Contains(msg, sec) {
			msg, changed = strings.ReplaceAll(msg, sec, "[redacted]"), true
		}
	}
	if !changed {
		return err
	}
	return scrubbed{msg, err}
}

type scrubbed struct {
	msg string
	err error
}

func (e scrubbed) Error() string { return e.msg }
func (e scrubbed) Unwrap() error { return e.err }

func (c *Client) fetch(ctx context.Context, repo, revision string) ([]byte, error) {
	ep := strings.TrimRight(c.Endpoint, "/")
	if ep == "" {
		ep = DefaultEndpoint
	}
	u := fmt.Sprintf("%s/%s/resolve/%s/config.json", ep, repo, url.PathEscape(revision))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", "vllm-wizard")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch config.json of %s: %w", repo, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%s@%s: %w (check the id and --revision)", repo, revision, ErrNotFound)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		hint := "set HF_TOKEN to a token that has accepted the model's licence"
		if c.Token != "" {
			hint = "HF_TOKEN was sent; check that it has access to this gated model"
		}
		return nil, fmt.Errorf("%s: %w (HTTP %d); %s", repo, ErrUnauthorized, resp.StatusCode, hint)
	default:
		return nil, fmt.Errorf("fetch config.json of %s: HTTP %d from %s", repo, resp.StatusCode, c.endpoint())
	}
	limit := c.MaxBytes
	if limit <= 0 {
		limit = MaxConfigBytes
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("config.json of %s: %w: %d bytes, more than %d", repo, ErrBadConfig, resp.ContentLength, limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read config.json of %s: %w: %w", repo, ErrBadConfig, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("config.json of %s: %w: more than %d bytes", repo, ErrBadConfig, limit)
	}
	return data, nil
}
