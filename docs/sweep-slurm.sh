#!/bin/bash
# One sweep split across a Slurm job array: task i runs
# `vllm-wizard sweep --shard i/N` and writes part-i.parquet. --shard takes a
# contiguous range of point indices, so part-0 … part-(N-1) read in order are
# the unsharded output row for row (each row keeps its global `index`).
#
#   sbatch docs/sweep-slurm.sh examples/procurement.yaml /shared/sweep-out
#
#SBATCH --job-name=vllm-wizard-sweep
#SBATCH --array=0-7            # N = 8 tasks: keep in step with SHARDS below
#SBATCH --cpus-per-task=2
#SBATCH --mem=1G
#SBATCH --time=01:00:00
#SBATCH --output=sweep-%A_%a.log
set -euo pipefail

GRID=${1:?usage: sbatch sweep-slurm.sh GRID.yaml OUT_DIR}
OUT=${2:?usage: sbatch sweep-slurm.sh GRID.yaml OUT_DIR}
SHARDS=${SLURM_ARRAY_TASK_COUNT:-8}
mkdir -p "$OUT"

exec vllm-wizard sweep \
  --grid "$GRID" \
  --shard "${SLURM_ARRAY_TASK_ID}/${SHARDS}" \
  --workers "${SLURM_CPUS_PER_TASK:-2}" \
  --out "$OUT/part-${SLURM_ARRAY_TASK_ID}.parquet" \
  --force --quiet
