# vllm-wizard — see README.md.
GO      ?= go
export CGO_CFLAGS ?= -Wno-deprecated-declarations
BIN     ?= vllm-wizard
PKGS    := ./...
FUZZTIME ?= 10s

.PHONY: all build test vet fmt-check bench bench-sweep fuzz baselines accuracy lint clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/vllm-wizard

## test: gofmt check, go vet, race-enabled tests (the CI command)
test: fmt-check vet
	$(GO) test -race -count=1 $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## bench: every Go benchmark once
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## bench-sweep: estimator, sweep → Parquet, sweep → xlsx rows/s
bench-sweep:
	$(GO) test -run '^$$' -bench 'Evaluate|Sweep' -benchmem ./planner ./sweep ./cmd/vllm-wizard

## fuzz: each native fuzz target for $(FUZZTIME)
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

## baselines / accuracy: refit baselines/data/default.json from the published
## measurements and regenerate docs/accuracy.md and the README section
baselines accuracy:
	$(GO) run ./cmd/vllm-wizard calibrate fit --preset default baselines/data/public-measurements.csv \
	  --out baselines/data/default.json --accuracy docs/accuracy.md --force
	$(GO) run ./calibrate/fit/internal/readmeaccuracy docs/accuracy.md README.md

clean:
	rm -f $(BIN)
