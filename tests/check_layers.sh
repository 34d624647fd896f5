#!/usr/bin/env bash
# Fails when a layer includes a header of a layer above it (docs/architecture.md):
# core <- ops, formats <- runtime <- tools. CMake's target links catch the same at link time;
# this catches header-only back-arrows too.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
check() { # layer, allowed include prefixes (regex)
    local layer=$1 allowed=$2 bad
    bad=$(grep -rnE '^#include "[a-z_]+/' "$layer" | grep -vE "#include \"($allowed)/" || true)
    if [ -n "$bad" ]; then
        echo "layer $layer includes a higher or sibling layer:"; echo "$bad"; status=1
    fi
}
check core 'core'
check ops 'core|ops'
check formats 'core|formats'
check runtime 'core|ops|formats|runtime'
[ $status -eq 0 ] && echo "layers: no back-arrows (core <- ops, formats <- runtime)"
exit $status
