# vllm-wizard — see README.md.
GO      ?= go
export CGO_CFLAGS ?= -Wno-deprecated-declarations
BIN     ?= vllm-wizard
PKGS    := ./...
FUZZTIME ?= 10s

.PHONY: all build test vet fmt-check bench bench-sweep bench-rss fuzz baselines accuracy clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/vllm-wizard

## test: gofmt check, go vet, race-enabled tests (the CI command)
test: fmt-check vet
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

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

## bench-rss: wall time and peak RSS of sweep → Parquet / xlsx at 1 M and 10 M
## rows (K=69445 gives 50 M); outputs go to $(TMPDIR) and are deleted
TMPDIR ?= /tmp
SWEEP_GRID = --models meta-llama/Llama-3.1-8B-Instruct,meta-llama/Llama-3.1-70B-Instruct,Qwen/Qwen3-30B-A3B,deepseek-ai/DeepSeek-V3 \
  --gpus "H100 SXM,H200 SXM,L40S,A100 80GB SXM,MI300X" --tp 1,2,4,8 --contexts 4k,32k,128k --quantizations none,awq,fp8
bench-rss: build
	@for k in 1389 13890 $(K); do \
	  echo "== sweep → parquet, $$((k * 720)) rows"; \
	  /usr/bin/time -v ./$(BIN) sweep --quiet $(SWEEP_GRID) --concurrency 1-$$k --out $(TMPDIR)/vw-bench.parquet --force 2>&1 \
	    | grep -E 'Elapsed|Maximum resident|User time|System time'; rm -f $(TMPDIR)/vw-bench.parquet; \
	done
	@echo "== sweep → xlsx, 1000080 rows"; \
	/usr/bin/time -v ./$(BIN) sweep --quiet $(SWEEP_GRID) --concurrency 1-1389 --out $(TMPDIR)/vw-bench.xlsx --force 2>&1 \
	  | grep -E 'Elapsed|Maximum resident|User time|System time'; rm -f $(TMPDIR)/vw-bench.xlsx

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
	$(GO) run ./cmd/vllm-wizard calibrate fit --preset default baselines/data/public-measurements.csv baselines/data/more-measurements.csv \
	  --out baselines/data/default.json --accuracy docs/accuracy.md --force
	$(GO) run ./calibrate/fit/internal/readmeaccuracy docs/accuracy.md README.md

clean:
	rm -f $(BIN)
