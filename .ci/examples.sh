#!/usr/bin/env bash
# The examples (examples/*/CMakeLists.txt) built and run against an installed attnlab: installs
# build/ into a temporary prefix, moves a copy elsewhere and deletes the original, then
# configures and builds each example in a fresh tree of its own from a copy of examples/, with
# only the copied prefix on CMAKE_PREFIX_PATH, and runs it. Prints each example's output.
# Usage: bash .ci/examples.sh [BUILD_DIR]   (build by default; it must be built already)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/installed" >/dev/null
cp -a "$tmp/installed" "$tmp/prefix" && rm -rf "$tmp/installed"  # nothing may point at the first place
cp -a examples "$tmp/src"
prefix=$tmp/prefix

build_example() {  # build_example NAME: configure and build it; the binary is $tmp/b/NAME/NAME
  cmake -S "$tmp/src/$1" -B "$tmp/b/$1" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/$1.configure.log" ||
    { cat "$tmp/$1.configure.log"; return 1; }
  cmake --build "$tmp/b/$1" -j"$(nproc)" >"$tmp/$1.build.log" || { cat "$tmp/$1.build.log"; return 1; }
}
run() { echo "\$ $*"; "$@"; }
for e in registry custom_op attention_only checkpoint_interop; do build_example "$e"; done

# Every model family and task the installed binary knows, the static libraries give too.
run "$tmp/b/registry/registry" | tee "$tmp/registry.out"
want_models=$("$prefix/bin/attnlab" models --json | python3 -c 'import json,sys; print(" ".join(f["name"] for f in json.load(sys.stdin)))')
want_tasks=$("$prefix/bin/attnlab" tasks --json | python3 -c 'import json,sys; print(" ".join(t["name"] for t in json.load(sys.stdin)))')
grep -qxF "models: $want_models" "$tmp/registry.out" || { echo "attnlab models lists: $want_models"; exit 1; }
grep -qxF "tasks: $want_tasks" "$tmp/registry.out" || { echo "attnlab tasks lists: $want_tasks"; exit 1; }

run "$tmp/b/custom_op/custom_op"
run "$tmp/b/attention_only/attention_only"
# A checkpoint from the installed binary, a small Transformer trained for 20 steps.
"$prefix/bin/attnlab" train --task copy --task-opt length=6 --d-model 16 --heads 2 --ff 32 --enc-layers 1 \
  --dec-layers 1 --batch 16 --steps 20 --eval-every 10 --eval-examples 50 --threads 1 --quiet --out "$tmp/run" >/dev/null
run "$tmp/b/checkpoint_interop/checkpoint_interop" "$tmp/run/best.safetensors"
