#!/usr/bin/env bash
# Renders the example procurement workbook with LibreOffice headless to PNGs
# under docs/img/ (make workbook-png). Skips, exit 0, without soffice or
# pdftoppm/pdftotext (apt-get install libreoffice-calc poppler-utils).
set -euo pipefail
bin=${1:-./vllm-wizard}
out=${2:-docs/img}
for tool in soffice pdftoppm pdftotext; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "workbook-png: skipped: $tool not found (apt-get install libreoffice-calc poppler-utils)"
    exit 0
  fi
done
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
# The procurement grid without its 15,360-row Sweep sheet (Answer, Charts,
# About): printed, a 53-column sheet splits into pages of three columns each,
# which shows nothing the Sweep sheet's own screen does.
(cd examples && "$bin" sweep --quiet --grid procurement.yaml --summary-only --out "$tmp/procurement.xlsx")
# A private profile keeps soffice from touching the user's.
for f in procurement; do
  soffice -env:UserInstallation=file://"$tmp"/lo --headless --convert-to pdf --outdir "$tmp" "$tmp/$f.xlsx" >/dev/null 2>&1
done
# page PDF TEXT: the first page of PDF whose text contains TEXT.
page() {
  local n
  n=$(pdfinfo "$1" | awk '/^Pages:/ {print $2}')
  for ((i = 1; i <= n; i++)); do
    # grep reads everything (no -q): an early exit would SIGPIPE pdftotext
    # and fail the pipeline under pipefail.
    if pdftotext -f "$i" -l "$i" "$1" - | grep -F "$2" >/dev/null; then echo "$i"; return; fi
  done
  echo "workbook-png: no page of $1 shows \"$2\"" >&2
  return 1
}
shot() { # PDF PAGE NAME
  pdftoppm -png -r 100 -f "$2" -l "$2" -singlefile "$1" "$out/$3"
  echo "workbook-png: $out/$3.png (page $2 of $(basename "$1"))"
}
p=$(page "$tmp/procurement.pdf" "Which GPU to buy") && shot "$tmp/procurement.pdf" "$p" workbook-answer
p=$(page "$tmp/procurement.pdf" "Cost and speed per model") && shot "$tmp/procurement.pdf" "$p" workbook-charts
p=$(page "$tmp/procurement.pdf" "About this workbook") && shot "$tmp/procurement.pdf" "$p" workbook-about
