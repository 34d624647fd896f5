#!/usr/bin/env bash
# zoo_variant_goldens.sh: the zoo fixtures requantized by llama.cpp to another type (F16 by
# default), each with llama.cpp's own teacher-forced logits for the same positions, laid out as
# ../shared/fixtures is, so the zoo tests run against them unchanged:
#
#   tools/strata-bench/zoo_variant_goldens.sh -l /tmp/llama-ref -o /tmp/zoo-f16 [-t F16]
#   STRATA_FIXTURES=/tmp/zoo-f16 build/strata_tests --gtest_filter='Fixtures/Zoo.*:ZooGemma3n.*'
#
# (the files keep their -q8_0 names: the tests know the fixtures by name). Measurement only: it
# needs the llama.cpp that ../shared/tools/llama-reference.sh builds (llama-quantize, libllama)
# and compiles tools/strata-bench/llama_teacher_force.cpp against it; nothing of llama.cpp goes
# into strata. llama.cpp's distance from the file's own Q8_0 goldens is printed for each file.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
zoo="$here/../../../shared/fixtures/zoo"
llama="" out="" type=F16
usage() {
    echo "usage: $0 -l LLAMA_REF_DIR -o OUT_DIR [-t TYPE] [-z ZOO_DIR]" >&2
    exit 2
}
while getopts "l:o:t:z:h" opt; do
    case $opt in
    l) llama=$OPTARG ;;
    o) out=$OPTARG ;;
    t) type=$OPTARG ;;
    z) zoo=$OPTARG ;;
    *) usage ;;
    esac
done
[[ -n $llama && -n $out ]] || usage
[[ -d $zoo ]] || { echo "$0: no zoo fixtures at $zoo (-z)" >&2; exit 1; }
bin=$llama/build/bin
[[ -x $bin/llama-quantize ]] || { echo "$0: no llama-quantize in $bin" >&2; exit 1; }

mkdir -p "$out/zoo"
tf=$out/llama_teacher_force
g++ -O2 -std=c++17 "$here/llama_teacher_force.cpp" -I"$llama/src/include" \
    -I"$llama/src/ggml/include" -L"$bin" -lllama -lggml -lggml-base -Wl,-rpath,"$bin" -o "$tf"

for f in "$zoo"/*-q8_0.gguf; do
    x=$(basename "$f" .gguf)
    if ! "$bin/llama-quantize" --allow-requantize "$f" "$out/zoo/$x.gguf" "$type" >"$out/$x.log" 2>&1; then
        echo "$x: llama-quantize to $type failed (see $out/$x.log)" >&2
        continue
    fi
    cp "$zoo/$x.prompt1.positions" "$zoo/$x.prompt1.txt" "$out/zoo/"
    # 34 positions in one batch, then one at a time: how the zoo goldens were made
    echo -n "$x ($type): llama.cpp against the Q8_0 golden: "
    "$tf" "$out/zoo/$x.gguf" "$zoo/$x.prompt1.positions" "$zoo/$x.prompt1.logits.bin" f16 2 34 \
        "$out/zoo/$x.prompt1.logits.bin" 2>/dev/null
done
