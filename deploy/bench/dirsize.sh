#!/usr/bin/env bash
# dirsize (README "Benchmarks", item 6): BenchmarkDirsize on a generated tree of
# $DIRSIZE_FILES files (500,000) in $DIRSIZE_DIRS folders (5,000) under $TMPDIR
# (deleted at the end): the index's first walk, a re-measure after 1% of the
# files changed, and GNU du -sB1 / -sxB1 on the same tree in the same run, plus
# the index's memory per entry. Raw output to $1 (default
# deploy/bench/raw/dirsize.txt); prints the markdown table.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
raw=${1:-$repo/deploy/bench/raw/dirsize.txt}
cd "$repo"
# DIRSIZE_REUSE=1 only formats an existing raw file again.
if [ "${DIRSIZE_REUSE:-}" != 1 ]; then
	go test -run '^$' -bench '^BenchmarkDirsize$' -benchtime 1x -timeout 60m ./checkscript >"$raw"
fi

# m NAME: the value printed before NAME on the benchmark line.
m() { awk -v u="$1" '/^BenchmarkDirsize-/ { for (i = 2; i <= NF; i++) if ($i == u) print $(i-1) }' "$raw"; }

same=$(awk -v s="$(m same-bytes)" 'BEGIN { print (s == 1 ? "yes" : "no") }')
printf '| tree | first walk (unthrottled / default --rate) | re-measure after %s changes | du -sB1 | du -sxB1 | du -sxB1 / re-measure | same bytes as du | index heap per entry | index peak RSS per entry |\n' "$(m changed-files | cut -d. -f1)"
echo '|---|---|---|---|---|---|---|---|---|'
printf '| %s files, %s folders | %s ms / %s ms | %s ms | %s ms | %s ms | %s× | %s (%s B) | %s B | %s B |\n' \
	"$(m files)" "$(m folders | cut -d. -f1)" "$(m first-walk-ms)" "$(m first-walk-throttled-ms)" "$(m remeasure-ms)" \
	"$(m du-sB1-ms)" "$(m du-sxB1-ms)" "$(awk -v r="$(m du-over-remeasure)" 'BEGIN { printf "%.0f", r }')" \
	"$same" "$(m bytes)" "$(awk -v r="$(m heap-B/entry)" 'BEGIN { printf "%.0f", r }')" \
	"$(awk -v r="$(m peak-rss-B/entry)" 'BEGIN { printf "%.0f", r }')"
