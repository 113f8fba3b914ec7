#!/usr/bin/env bash
# A/B benchmark of sweep output speed: this tree's binary ($1) against
# BASE's (a git revision, default main), alternating runs on the same grids,
# so a shared machine's load hits both alike. Prints wall seconds, CPU
# seconds, peak RSS and rows/s per run, and the ratio of the medians.
set -euo pipefail
NEW=${1:?usage: bench-sweep.sh NEW_BINARY}
BASE=${BASE:-main}
RUNS=${RUNS:-3}
GO=${GO:-go}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vw-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP/src"
git archive "$BASE" | tar -x -C "$TMP/src"
(cd "$TMP/src" && CGO_CFLAGS=-Wno-deprecated-declarations "$GO" build -o "$TMP/base" ./cmd/vllm-wizard 2>/dev/null)

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

run() { # bin grid-name format → "wall cpu rss_kb"
  local bin=$1 name=$2 fmt=$3 grid
  if [ "$name" = bar ]; then grid=("${BAR[@]}"); else grid=("${REAL[@]}"); fi
  /usr/bin/time -f '%e %U %S %M' -o "$TMP/t" "$bin" sweep --quiet "${grid[@]}" --workers 2 --out "$TMP/out.$fmt" --force
  rm -f "$TMP/out.$fmt"
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$TMP/t"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for grid in bar real; do
  rows=2400000; [ "$grid" = real ] && rows=786432
  for fmt in parquet csv jsonl; do
    : >"$TMP/base.w"; : >"$TMP/new.w"
    for i in $(seq "$RUNS"); do
      for who in base new; do
        bin=$TMP/base; [ "$who" = new ] && bin=$NEW
        read -r wall cpu rss < <(run "$bin" "$grid" "$fmt")
        echo "$wall" >>"$TMP/$who.w"
        printf '%-4s %-7s %-4s run %d: %6.2f s wall, %6.2f s CPU, %4d MB RSS, %9.0f rows/s\n' \
          "$grid" "$fmt" "$who" "$i" "$wall" "$cpu" $((rss / 1024)) "$(echo "$rows / $wall" | bc -l)"
      done
    done
    b=$(median <"$TMP/base.w"); n=$(median <"$TMP/new.w")
    printf '%-4s %-7s median: base %.0f rows/s, new %.0f rows/s, ratio %.2f×\n' "$grid" "$fmt" \
      "$(echo "$rows / $b" | bc -l)" "$(echo "$rows / $n" | bc -l)" "$(echo "$b / $n" | bc -l)"
  done
done
