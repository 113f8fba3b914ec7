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
	"time"
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
}

var repoIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$`)

// ValidRepoID reports whether id looks like a Hub repository id (org/name).
func ValidRepoID(id string) bool {
	return repoIDRe.MatchString(id) && !strings.Contains(id, "..")
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
		if data, err := os.ReadFile(cachePath); err == nil {
			return data, nil
		}
	}
	if c.Offline {
		return nil, fmt.Errorf("config.json of %s@%s is not cached and the network is forbidden (--offline or HF_HUB_OFFLINE): %w", repo, revision, ErrOffline)
	}
	data, err := c.fetch(ctx, repo, revision)
	if err != nil {
		return nil, err
	}
	if cachePath != "" {
		if err := writeCache(cachePath, data); err != nil {
			// A cache failure is not fatal: the fetch succeeded.
			_ = err
		}
	}
	return data, nil
}

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
		return nil, fmt.Errorf("fetch config.json of %s: %w", repo, redact(err, c.Token))
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
		return nil, fmt.Errorf("fetch config.json of %s: HTTP %d from %s", repo, resp.StatusCode, ep)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("read config.json of %s: %w", repo, err)
	}
	return data, nil
}

func writeCache(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".config.json.tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}

// redact removes the token from an error message, should a URL carry it.
func redact(err error, token string) error {
	if token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), token, "[redacted]"))
}
