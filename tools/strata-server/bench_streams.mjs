#!/usr/bin/env node
// Aggregate generation throughput of an OpenAI-compatible server with 1, 2, 4, 8 concurrent
// streams (SPEC §11: at 8 streams >= 4x one stream). Works against strata-server and
// llama-server alike (same request: /v1/completions, temperature 0, ignore_eos), so the two can
// be compared on the same GGUF and settings. Loopback only; each run is bounded by its tokens.
//   node tools/strata-server/bench_streams.mjs --url http://127.0.0.1:8080 [--streams 1,2,4,8]
//        [--tokens 128] [--prompt-words 32] [--runs 2]
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const url = args.url ?? "http://127.0.0.1:8080";
const host = new URL(url).hostname;
if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(host)) {
  console.error("bench_streams: loopback servers only");
  process.exit(2);
}
const streams = (args.streams ?? "1,2,4,8").split(",").map(Number);
const tokens = Number(args.tokens ?? 128), runs = Number(args.runs ?? 2);
const words = Number(args["prompt-words"] ?? 32);

async function one(i) {
  const prompt = Array.from({ length: words }, (_, w) => `word${(w * 7 + i) % 97}`).join(" ");
  const res = await fetch(url + "/v1/completions", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ prompt, max_tokens: tokens, temperature: 0, ignore_eos: true, n_predict: tokens }),
    signal: AbortSignal.timeout(600000),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(body)}`);
  return body.usage.completion_tokens;
}

await one(0); // warm-up
let base = 0;
console.log("streams  generated tok/s (aggregate)  per stream  vs 1 stream");
for (const n of streams) {
  let best = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const counts = await Promise.all(Array.from({ length: n }, (_, i) => one(i + 100 * r)));
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, counts.reduce((a, b) => a + b, 0) / s);
  }
  if (n === streams[0]) base = best / n;
  console.log(`${String(n).padStart(7)}  ${best.toFixed(1).padStart(28)}  ${(best / n).toFixed(1).padStart(10)}  ${(best / base).toFixed(2).padStart(10)}x`);
}
