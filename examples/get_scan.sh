#!/bin/bash
# SCAN (Lake & Baroni 2018, BSD licence) as attnlab file datasets: the simple and the length
# split, each as OUT/<split>/{train,valid,test}.tsv. SCAN has no validation set, so 10% of its
# training lines (a fixed shuffle) are held out as valid.tsv; its test file is test.tsv.
# Usage: examples/get_scan.sh OUT [SCAN_CHECKOUT]
#   SCAN_CHECKOUT: a local copy of github.com/brendenlake/SCAN; without it the four files are
#   downloaded from GitHub (commit c4b756c) and checked against their published line counts.
set -euo pipefail
out=${1:?usage: get_scan.sh OUT [SCAN_CHECKOUT]}
src=${2:-}
commit=c4b756cbc010d75c912f16c42c8f15dc6b7e6c8f
declare -A lines=([simple_split/tasks_train_simple.txt]=16728 [simple_split/tasks_test_simple.txt]=4182
                  [length_split/tasks_train_length.txt]=16990 [length_split/tasks_test_length.txt]=3920)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "${!lines[@]}"; do
  mkdir -p "$tmp/$(dirname "$f")"
  if [[ -n "$src" ]]; then
    cp "$src/$f" "$tmp/$f"
  else
    curl -fsSL "https://raw.githubusercontent.com/brendenlake/SCAN/$commit/$f" -o "$tmp/$f"
  fi
  n=$(wc -l <"$tmp/$f")
  [[ $n -eq ${lines[$f]} ]] || { echo "get_scan: $f has $n lines, expected ${lines[$f]}" >&2; exit 1; }
done
# "IN: jump twice OUT: I_JUMP I_JUMP" -> "jump twice<TAB>I_JUMP I_JUMP"
to_tsv() { sed -E 's/^IN: (.*) OUT: (.*)$/\1\t\2/' "$1"; }
for split in simple length; do
  d="$out/$split"
  mkdir -p "$d"
  to_tsv "$tmp/${split}_split/tasks_train_$split.txt" | shuf --random-source=<(yes) >"$tmp/train.tsv"
  n=$(wc -l <"$tmp/train.tsv")
  head -n $((n / 10)) "$tmp/train.tsv" >"$d/valid.tsv"
  tail -n +$((n / 10 + 1)) "$tmp/train.tsv" >"$d/train.tsv"
  to_tsv "$tmp/${split}_split/tasks_test_$split.txt" >"$d/test.tsv"
  echo "wrote $d: $(wc -l <"$d/train.tsv") train, $(wc -l <"$d/valid.tsv") valid, $(wc -l <"$d/test.tsv") test"
done
