#!/usr/bin/env bash
# Runs the strata-server tests (tests/server/*.test.mjs: the official openai npm client and curl
# against servers started on 127.0.0.1) on stories260K. Exit 77 (skipped) without fixtures or
# without Node.js. `run.sh BUILD SRC FIXTURES [TEST...]`; the tests default to server.test.mjs.
set -euo pipefail
build=$(realpath "$1") src=$(realpath "$2") fixtures=$3
shift 3
tests=("${@:-server.test.mjs}")
[ -f "$fixtures/stories260K/stories260K.bin" ] || { echo "skipped: fixtures not found at $fixtures"; exit 77; }
command -v node > /dev/null || { echo "skipped: node is not installed"; exit 77; }
[ -d "$src/tests/server/node_modules/openai" ] || {
  echo "the openai npm package is missing: run .ci/install-deps (it installs tests/server's package-lock.json)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/strata-convert" "$fixtures/stories260K/stories260K.bin" --tokenizer "$fixtures/stories260K/tok512.bin" -q -o "$tmp/stories260K.strata"
export STRATA_BUILD="$build" STRATA_MODEL="$tmp/stories260K.strata" STRATA_TMP="$tmp"
cd "$src/tests/server"
node --test --test-concurrency=1 "${tests[@]}"
