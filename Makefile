# vllm-wizard — see README.md.
GO      ?= go
export CGO_CFLAGS ?= -Wno-deprecated-declarations
BIN     ?= vllm-wizard
PKGS    := ./...
FUZZTIME ?= 10s

.PHONY: all build test vet fmt-check bench bench-sweep bench-rss fuzz baselines accuracy docs workbook-png clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/vllm-wizard

## test: gofmt check, go vet, race-enabled tests, then the tests of
## single-goroutine code that skip themselves under the detector (~10–14×
## slower there, nothing to find), without -race: the full fit of the
## published data and the queueing simulations (the CI command)
SLOWFIT := '^(TestDefaultIsRegenerated|TestCalibrateFitDoneWhen)$$'
SIMTESTS := '^(TestQueueingMatchesSimulation|TestClosedLoopMatchesSimulation|TestSlotRuleMatchesSimulation)$$'
test: fmt-check vet
	$(GO) test -race -count=1 $(PKGS)
	$(GO) test -count=1 -run $(SLOWFIT) ./baselines ./cmd/vllm-wizard
	$(GO) test -count=1 -run $(SIMTESTS) ./planner/deploy

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## bench: every Go benchmark once
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## bench-sweep: estimator, row production (CPU ns a row), sweep → Parquet,
## sweep → xlsx rows/s, plan in-process; then plan's start-up and the CLI
## on the issue's bar grid (2.4 M rows), a realistic grid (786 k rows) and the
## SLO procurement grid (15 k rows, queueing-model sizing) to Parquet, CSV and
## JSONL, into a file and to /dev/null, alternating with the binary of BASE
## (default main; BASE_BIN= a built one); GRIDS, FORMATS, OUTS, RUNS narrow it,
## COLUMNS= passes --columns, PLAN_RUNS= sets the start-up runs (0 skips)
BASE ?= main
BASE_BIN ?=
bench-sweep: build
	$(GO) test -run '^$$' -bench 'Evaluate|Sweep|RowProduction|ParetoPass|PlanCommand' -benchmem ./planner ./sweep ./cmd/vllm-wizard
	BASE=$(BASE) BASE_BIN=$(BASE_BIN) GO=$(GO) ./scripts/bench-sweep.sh ./$(BIN)

## bench-rss: wall time, CPU and peak RSS of sweep → each of RSS_FORMATS at
## 1 M and 10 M rows (K=69445 adds 50 M; WORKERS=32 tries many workers), and
## → xlsx at 1,000,080 rows. Parquet and xlsx go to $(TMPDIR) and are deleted;
## CSV and JSONL go to /dev/null (50 M CSV rows are about 47 GB)
TMPDIR ?= /tmp
RSS_FORMATS ?= parquet csv jsonl
WORKERS ?= 0
SWEEP_GRID = --models meta-llama/Llama-3.1-8B-Instruct,meta-llama/Llama-3.1-70B-Instruct,Qwen/Qwen3-30B-A3B,deepseek-ai/DeepSeek-V3 \
  --gpus "H100 SXM,H200 SXM,L40S,A100 80GB SXM,MI300X" --tp 1,2,4,8 --contexts 4k,32k,128k --quantizations none,awq,fp8
RSS_FIELDS = 'Elapsed|Maximum resident|User time|System time'
bench-rss: build
	@for fmt in $(RSS_FORMATS); do for k in 1389 13890 $(K); do \
	  echo "== sweep → $$fmt, $$((k * 720)) rows, --workers $(WORKERS), load $$(cut -d' ' -f1 /proc/loadavg)"; \
	  out=-; [ $$fmt = parquet ] && out=$(TMPDIR)/vw-bench.parquet; \
	  /usr/bin/time -v ./$(BIN) sweep --quiet $(SWEEP_GRID) --concurrency 1-$$k --workers $(WORKERS) --format $$fmt --out $$out --force 2>&1 >/dev/null \
	    | grep -E $(RSS_FIELDS); rm -f $(TMPDIR)/vw-bench.parquet; \
	done; done
	@echo "== sweep → xlsx, 1000080 rows, load $$(cut -d' ' -f1 /proc/loadavg)"; \
	/usr/bin/time -v ./$(BIN) sweep --quiet $(SWEEP_GRID) --concurrency 1-1389 --out $(TMPDIR)/vw-bench.xlsx --force 2>&1 \
	  | grep -E $(RSS_FIELDS); rm -f $(TMPDIR)/vw-bench.xlsx

## fuzz: each native fuzz target for $(FUZZTIME), minimising each new input for
## at most $(FUZZMINIMIZE) (10x = ten executions; Go's default, 60 s per input,
## starves short runs); prints each target's exec count and fails if one falls
## under $(FUZZMINEXECS)
FUZZMINIMIZE ?= 10x
FUZZMINEXECS ?= 10000
fuzz:
	@set -e; log=$$(mktemp); trap 'rm -f $$log' EXIT; low=""; \
	for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) $$pkg >$$log 2>&1 \
	      || { cat $$log; exit 1; }; \
	    n=$$(grep -o 'execs: [0-9]*' $$log | tail -1 | grep -o '[0-9]*' || echo 0); \
	    printf '%-60s %-28s %10s execs\n' $$pkg $$f $$n; \
	    if [ "$$n" -lt $(FUZZMINEXECS) ]; then low="$$low $$f"; fi; \
	  done; \
	done; \
	if [ -n "$$low" ]; then echo "fewer than $(FUZZMINEXECS) execs in $(FUZZTIME):$$low"; exit 1; fi

## baselines / accuracy: refit baselines/data/default.json from the published
## measurements, regenerate docs/accuracy.md, the README section and
## baselines/default_gen.go (the default set as Go code, read at start-up).
## The fit runs built with the tag baselines_regen, which parses the JSON
## instead, so a stale or no longer compiling default_gen.go cannot stop it
baselines accuracy:
	$(GO) run -tags baselines_regen ./cmd/vllm-wizard calibrate fit --preset default baselines/data/public-measurements.csv baselines/data/more-measurements.csv \
	  --out baselines/data/default.json --accuracy docs/accuracy.md --force
	$(GO) generate ./baselines
	$(GO) run ./calibrate/fit/internal/readmeaccuracy docs/accuracy.md README.md

## docs: regenerate docs/sweep.md's column table and the golden CSV from the
## column registry (sweep/columns.go)
docs:
	$(GO) test ./sweep -run 'TestColumnDoc|TestGoldenCSV' -count=1 -update

## workbook-png: render the example procurement workbook with LibreOffice
## headless to docs/img/workbook-*.png (skips without soffice/pdftoppm)
workbook-png: build
	./scripts/workbook-png.sh ./$(BIN) docs/img

clean:
	rm -f $(BIN)
