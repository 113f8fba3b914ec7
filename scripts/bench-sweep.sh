#!/usr/bin/env bash
# A/B benchmark of sweep output speed: this tree's binary ($1) against
# BASE's (a git revision, default main), alternating runs on the same grids,
# so a shared machine's load hits both alike. Prints per run the wall and CPU
# seconds (user + sys), peak RSS, rows/s by the wall clock and the rate the
# CPU seconds imply on 2 idle cores (rows × 2 / CPU s: what the run would do
# with two free cores, the honest figure on a loaded machine), and the
# 1-minute load average; then the ratios of the medians, wall and CPU, and
# the CPU microseconds per row. Each run writes into a file under TMPDIR and
# to /dev/null (OUTS): on a slow disk CSV and JSONL into a file are bound by
# the disk's system time, not the encoder.
# RUNS (default 3), GRIDS (bar real slo), FORMATS (parquet csv jsonl) and
# OUTS (file null) narrow it; BASE_BIN names a built base binary instead.
# COLUMNS=a,b passes --columns (COLUMNS=status: the 11 partition columns
# and status, so the run costs about what producing the rows costs).
# First the start-up: PLAN_RUNS (default 30; 0 skips) alternating runs of
# `plan -m meta-llama/Llama-3.1-8B-Instruct --gpu "H100 SXM"` and of
# --version, median and fastest wall time by bash's own clock.
set -euo pipefail
NEW=${1:?usage: bench-sweep.sh NEW_BINARY}
BASE=${BASE:-main}
RUNS=${RUNS:-3}
GRIDS=${GRIDS:-bar real slo}
OUTS=${OUTS:-file null}
FORMATS=${FORMATS:-parquet csv jsonl}
GO=${GO:-go}
PLAN_RUNS=${PLAN_RUNS:-30}
COLUMNS=${COLUMNS:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vw-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
if [ -n "${BASE_BIN:-}" ]; then # an already built base binary
  cp "$BASE_BIN" "$TMP/base"
else
  mkdir "$TMP/src"
  git archive "$BASE" | tar -x -C "$TMP/src"
  (cd "$TMP/src" && CGO_CFLAGS=-Wno-deprecated-declarations "$GO" build -o "$TMP/base" ./cmd/vllm-wizard 2>/dev/null)
fi

# The issue's bar grid: 2 models × 6 GPUs × 4 TP × 20 contexts × 5 quantizations
# × 50 concurrencies × 10 prompt lengths = 2,400,000 rows (74 % ok).
BAR=(--models meta-llama/Llama-3.1-8B-Instruct,meta-llama/Llama-3.1-70B-Instruct
  --gpus "H200 SXM,H100 SXM,A100 80GB SXM,L40S,MI300X,L4" --tp 1,2,4,8
  --contexts 1k,2k,3k,4k,5k,6k,7k,8k,9k,10k,11k,12k,13k,14k,15k,16k,17k,18k,19k,20k
  --quantizations none,awq,fp8,int8,gptq --concurrency 1-50 --prompt-tokens 128,256,384,512,640,768,896,1024,1152,1280)
# A realistic procurement grid: 786,432 rows, 62 % ok.
REAL=(--models meta-llama/Llama-3.1-8B-Instruct --gpus "H100 SXM,H200 SXM,A100 80GB SXM,MI300X" --tp 1,2,4,8
  --contexts 4k,8k,16k,32k --quantizations none,fp8,awq --concurrency 1-256
  --prompt-tokens 256,512,1024,2048 --gen-tokens 128,256,512,1024)

# The procurement grid with a target load and an SLO (examples/): 15,360
# rows whose deployments are sized by the queueing model, a Pareto pass first.
SLO=(--grid "$(dirname "$0")/../examples/procurement-slo.yaml")

run() { # bin grid-name format out → "wall cpu rss_kb"
  local bin=$1 name=$2 fmt=$3 out=$4 grid
  case $name in
  bar) grid=("${BAR[@]}") ;;
  real) grid=("${REAL[@]}") ;;
  slo) grid=("${SLO[@]}") ;;
  esac
  local to=$TMP/out.$fmt
  [ "$out" = null ] && to=/dev/null
  local cols=()
  [ -n "$COLUMNS" ] && cols=(--columns "$COLUMNS")
  /usr/bin/time -f '%e %U %S %M' -o "$TMP/t" "$bin" sweep --quiet "${grid[@]}" "${cols[@]}" --workers 2 --format "$fmt" --out "$to" --force
  rm -f "$TMP/out.$fmt"
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$TMP/t"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# startup_ms BIN ARGS...: the wall milliseconds of one run.
startup_ms() {
  local t0=$EPOCHREALTIME
  "$@" >/dev/null 2>&1
  local t1=$EPOCHREALTIME
  echo "(${t1/./} - ${t0/./}) / 1000" | bc -l
}
if [ "$PLAN_RUNS" -gt 0 ]; then
  for what in plan version; do
    : >"$TMP/base.s"; : >"$TMP/new.s"
    for _ in $(seq "$PLAN_RUNS"); do
      for who in base new; do
        bin=$TMP/base; [ "$who" = new ] && bin=$NEW
        if [ $what = plan ]; then
          startup_ms "$bin" plan -m meta-llama/Llama-3.1-8B-Instruct --gpu "H100 SXM" >>"$TMP/$who.s"
        else
          startup_ms "$bin" --version >>"$TMP/$who.s"
        fi
      done
    done
    printf '%-7s start-up, %d alternating runs: base median %.1f ms (min %.1f), new median %.1f ms (min %.1f), load %s\n' "$what" "$PLAN_RUNS" \
      "$(median <"$TMP/base.s")" "$(sort -n "$TMP/base.s" | head -1)" "$(median <"$TMP/new.s")" "$(sort -n "$TMP/new.s" | head -1)" "$(cut -d' ' -f1 /proc/loadavg)"
  done
fi

for grid in $GRIDS; do
  case $grid in
  bar) rows=2400000 ;;
  real) rows=786432 ;;
  slo) rows=15360 ;;
  esac
  for fmt in $FORMATS; do
    for out in $OUTS; do
      : >"$TMP/base.w"; : >"$TMP/new.w"; : >"$TMP/base.c"; : >"$TMP/new.c"
      for i in $(seq "$RUNS"); do
        for who in base new; do
          bin=$TMP/base; [ "$who" = new ] && bin=$NEW
          read -r wall cpu rss < <(run "$bin" "$grid" "$fmt" "$out")
          echo "$wall" >>"$TMP/$who.w"; echo "$cpu" >>"$TMP/$who.c"
          printf '%-4s %-7s %-4s %-4s run %d: %6.2f s wall, %6.2f s CPU (%.2f µs/row), %4d MB RSS, %9.0f rows/s wall, %9.0f rows/s CPU-implied (2 cores), load %s\n' \
            "$grid" "$fmt" "$out" "$who" "$i" "$wall" "$cpu" "$(echo "$cpu * 1000000 / $rows" | bc -l)" $((rss / 1024)) \
            "$(echo "$rows / $wall" | bc -l)" "$(echo "$rows * 2 / $cpu" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
        done
      done
      b=$(median <"$TMP/base.w"); n=$(median <"$TMP/new.w")
      bc_=$(median <"$TMP/base.c"); nc=$(median <"$TMP/new.c")
      printf '%-4s %-7s %-4s median: wall base %.0f, new %.0f rows/s (%.2f×); CPU-implied base %.0f, new %.0f rows/s (%.2f×); CPU µs/row base %.2f, new %.2f\n' \
        "$grid" "$fmt" "$out" "$(echo "$rows / $b" | bc -l)" "$(echo "$rows / $n" | bc -l)" "$(echo "$b / $n" | bc -l)" \
        "$(echo "$rows * 2 / $bc_" | bc -l)" "$(echo "$rows * 2 / $nc" | bc -l)" "$(echo "$bc_ / $nc" | bc -l)" \
        "$(echo "$bc_ * 1000000 / $rows" | bc -l)" "$(echo "$nc * 1000000 / $rows" | bc -l)"
    done
  done
done
