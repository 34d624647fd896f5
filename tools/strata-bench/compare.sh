#!/usr/bin/env bash
# compare.sh: strata-bench beside llama.cpp's llama-bench on the same GGUF, in one run, as ratios.
#
#   tools/strata-bench/compare.sh -g MODEL.gguf -l PATH/TO/llama-bench [-b build] [-t 1,2]
#                                 [-p 512] [-n 128] [-r 3] [--roofline]
#
# Converts the GGUF once to .strata (its tensors imported as they are: no requantization), then
# alternates the two tools per thread count so that both see the same minute of a shared machine,
# and prints one table: pp and tg tokens/s of each, and strata / llama.cpp. llama-bench comes from
# ../shared/tools/llama-reference.sh (built outside the project, for measurement only).
set -euo pipefail
usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
gguf="" llama="" build="build" threads="1,2" np=512 ng=128 reps=3 roof=""
while [ $# -gt 0 ]; do
  case "$1" in
    -g) gguf=$2; shift 2 ;;
    -l) llama=$2; shift 2 ;;
    -b) build=$2; shift 2 ;;
    -t) threads=$2; shift 2 ;;
    -p) np=$2; shift 2 ;;
    -n) ng=$2; shift 2 ;;
    -r) reps=$2; shift 2 ;;
    --roofline) roof="--roofline"; shift ;;
    -h|--help) usage 0 ;;
    *) echo "compare.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[ -n "$gguf" ] && [ -f "$gguf" ] || { echo "compare.sh: -g MODEL.gguf is required (got '$gguf')" >&2; exit 2; }
[ -n "$llama" ] && [ -x "$llama" ] || { echo "compare.sh: -l llama-bench must be an executable (got '$llama')" >&2; exit 2; }
for t in strata-convert strata-bench; do
  [ -x "$build/$t" ] || { echo "compare.sh: $build/$t not found: build first (make build)" >&2; exit 2; }
done
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
model="$work/$(basename "${gguf%.gguf}").strata"
"$build/strata-convert" "$gguf" -o "$model" >"$work/convert.log" 2>&1 ||
  { cat "$work/convert.log" >&2; exit 1; }

IFS=, read -ra ts <<<"$threads"
for t in "${ts[@]}"; do
  "$build/strata-bench" -m "$model" -p "$np" -n "$ng" -t "$t" -r "$reps" --json $roof >"$work/s$t.json"
  "$llama" -m "$gguf" -p "$np" -n "$ng" -t "$t" -r "$reps" -o json >"$work/l$t.json" 2>/dev/null
done

python3 - "$work" "$gguf" "$np" "$ng" "${ts[@]}" <<'PY'
import json, os, sys
work, gguf, np, ng, ts = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
def rate(rows, prompt, gen):
    for r in rows:
        if r.get("n_prompt") == prompt and r.get("n_gen") == gen:
            return r["avg_ts"], r.get("stddev_ts", 0.0), r.get("roofline_pct")
    return None, None, None
print(f"{os.path.basename(gguf)}: strata-bench vs llama-bench (same file, alternating)")
print("| threads | test | strata t/s | llama.cpp t/s | ratio | strata % of bound |")
print("| ---: | --- | ---: | ---: | ---: | ---: |")
for t in ts:
    s = json.load(open(f"{work}/s{t}.json")); l = json.load(open(f"{work}/l{t}.json"))
    for name, p, g in (("pp%d" % np, np, 0), ("tg%d" % ng, 0, ng)):
        if (p == 0 and ng == 0) or (g == 0 and np == 0): continue
        sa, ssd, pct = rate(s, p, g); la, lsd, _ = rate(l, p, g)
        if sa is None or la is None: continue
        pcts = f"{pct:.0f}%" if pct is not None else "-"
        print(f"| {t} | {name} | {sa:.1f} ± {ssd:.1f} | {la:.1f} ± {lsd:.1f} | {sa / la:.2f}x | {pcts} |")
PY
