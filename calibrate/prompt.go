package calibrate

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"strconv"
	"strings"
	"sync"
)

// vocabulary is the word list synthetic prompts are drawn from: common
// English words that most tokenisers encode as one token each.
var vocabulary = strings.Fields(`the of and to in is was for on that with as by at from his an were are which
this be or has had not but first one their its new after who they have her she two been other when there all
during into school time may years more most only over city some world would where later up such used many can
state about national out known university united then made year under each group film people game family part
city based water light house music early long high area order well team still between three number show book
river field line power season large war great name white south north west east series good home water small
land public history country best place called point case end form life work land market state open city road`)

// ProbeWords are the prompt sizes, in words, of the two probes that measure a
// model's tokens per word.
var ProbeWords = [2]int{64, 512}

// PromptCache remembers, per model, how many tokens a synthetic prompt of n
// words becomes (tokens ≈ Intercept + Slope × words), so each model is
// probed once. It is safe for concurrent use.
type PromptCache struct {
	mu    sync.Mutex
	fits  map[string]tokenFit
	base  int64
	nonce int64
}

type tokenFit struct{ intercept, slope float64 }

// NewPromptCache returns an empty cache whose prompts are random for this
// process: a second run against the same server shares no prefix with the
// first, so vLLM's prefix cache cannot shorten its prefills.
func NewPromptCache() *PromptCache {
	var b [8]byte
	if _, err := crand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("read random seed: %v", err)) // crypto/rand does not fail on supported systems
	}
	return NewSeededPromptCache(int64(binary.LittleEndian.Uint64(b[:]) >> 1))
}

// NewSeededPromptCache returns an empty cache whose prompts are the same in
// every run with the same seed (--seed), for reproducing a run.
func NewSeededPromptCache(seed int64) *PromptCache {
	return &PromptCache{fits: map[string]tokenFit{}, base: seed}
}

// Prober sends a prompt with max_tokens 1 and returns usage.prompt_tokens.
type Prober func(ctx context.Context, prompt string) (int, error)

// Calibrate probes model with two synthetic prompts (unless it is cached)
// and fits tokens per word.
func (p *PromptCache) Calibrate(ctx context.Context, model string, probe Prober) error {
	p.mu.Lock()
	_, ok := p.fits[model]
	p.mu.Unlock()
	if ok {
		return nil
	}
	var tok [2]float64
	for i, n := range ProbeWords {
		t, err := probe(ctx, p.Words(n))
		if err != nil {
			return fmt.Errorf("probe prompt of %d words: %w", n, err)
		}
		if t <= 0 {
			return fmt.Errorf("probe prompt of %d words: server reported %d prompt tokens", n, t)
		}
		tok[i] = float64(t)
	}
	slope := (tok[1] - tok[0]) / float64(ProbeWords[1]-ProbeWords[0])
	if slope <= 0 {
		return fmt.Errorf("probe prompts of %d and %d words gave %v and %v tokens: cannot fit tokens per word", ProbeWords[0], ProbeWords[1], tok[0], tok[1])
	}
	p.mu.Lock()
	p.fits[model] = tokenFit{intercept: tok[0] - slope*float64(ProbeWords[0]), slope: slope}
	p.mu.Unlock()
	return nil
}

// Prompt returns a fresh synthetic prompt of about tokens tokens for a
// calibrated model. Each prompt starts differently so the server's prefix
// cache cannot serve it.
func (p *PromptCache) Prompt(model string, tokens int) (string, error) {
	p.mu.Lock()
	fit, ok := p.fits[model]
	p.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("prompt length for %q is not calibrated", model)
	}
	words := int(math.Round((float64(tokens) - fit.intercept) / fit.slope))
	return p.Words(max(words, 1)), nil
}

// Words returns a fresh synthetic prompt of exactly n words.
func (p *PromptCache) Words(n int) string {
	p.mu.Lock()
	p.nonce++
	nonce := p.nonce
	p.mu.Unlock()
	rng := rand.New(rand.NewSource(p.base ^ nonce*0x5DEECE66D))
	var b strings.Builder
	b.Grow(n * 7)
	// A unique leading word defeats prefix caching from the first block on.
	b.WriteString("r")
	b.WriteString(strconv.FormatInt(p.base%1_000_000_007, 36))
	b.WriteString("x")
	b.WriteString(strconv.FormatInt(nonce, 10))
	for i := 1; i < n; i++ {
		b.WriteByte(' ')
		b.WriteString(vocabulary[rng.Intn(len(vocabulary))])
	}
	return b.String()
}
