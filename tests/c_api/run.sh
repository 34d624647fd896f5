#!/usr/bin/env bash
# Installs libstrata into a temporary prefix, builds tests/c_api/strata_c_test.c with the C
# compiler through pkg-config, runs it with STRATA_ISA naming kernels the CPU lacks, then on
# stories260K. Exit 77 (skipped) without fixtures.
set -euo pipefail
build=$1 src=$2 fixtures=$3 extra=${4:-} # extra: compiler flags (the sanitizers in sanitizer builds)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > /dev/null
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
cc -std=c11 -Wall -Wextra -Werror $extra -o "$tmp/c_test" "$src/tests/c_api/strata_c_test.c" $(pkg-config --cflags --libs strata) -pthread
# kernels no CPU of this architecture has: an error status, never an exit inside the library
case "$(uname -m)" in aarch64|arm64) missing=avx2 ;; *) missing=neon ;; esac
STRATA_ISA=$missing LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/c_test" --missing-isa "$tmp"
[ -f "$fixtures/stories260K/stories260K.bin" ] || { echo "skipped: fixtures not found at $fixtures"; exit 77; }
"$build/strata-convert" "$fixtures/stories260K/stories260K.bin" --tokenizer "$fixtures/stories260K/tok512.bin" -q -o "$tmp/m.strata"
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/c_test" "$tmp/m.strata"
# and the static library links too
cc -std=c11 $extra -o "$tmp/c_test_static" "$src/tests/c_api/strata_c_test.c" $(pkg-config --cflags strata) \
   "$tmp/prefix/lib/libstrata.a" $(pkg-config --libs-only-l --static strata | sed 's/-lstrata//') -pthread
"$tmp/c_test_static" "$tmp/m.strata"
