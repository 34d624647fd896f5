#!/usr/bin/env node
// Aggregate generation throughput of an OpenAI-compatible server with 1, 2, 4, 8 concurrent
// streams (SPEC §11: at 8 streams >= 4x one stream). Works against strata-server and
// llama-server alike (same request: streamed /v1/completions, temperature 0, ignore_eos), so the
// two can be compared on the same GGUF and settings. Loopback only; each run is bounded by its
// tokens.
//   node tools/strata-server/bench_streams.mjs --url http://127.0.0.1:8080 [--streams 1,2,4,8]
//        [--tokens 128] [--prompt-words 32] [--runs 2] [--endpoint /v1/completions]
// (--endpoint /completion: llama-server's own endpoint, for when its OpenAI one refuses a model;
//  --ban-tokens A-B: a logit bias of -inf on token ids A..B, e.g. 3-258 for the byte pieces of
//  synthetic_gguf.py's vocabulary: llama-server answers 500 to text that is not valid UTF-8,
//  which a random-weight model's byte tokens make)
//
// Two numbers per stream count (best of --runs):
//   generation  tokens/s while every stream of the round is generating: the tokens that arrive
//               between the last stream's first token and the first stream's last, over that
//               time (prompt processing excluded, also another stream's prompt chunks, which
//               would stall every stream's steps; one stream: its first to its last token)
//   end-to-end  all streams' generated tokens / wall time of the round, prompt processing
//               included (a 32-word prompt is ~280 tokens on the synthetic models' vocabulary,
//               so this number is mostly prefill when --tokens is small)
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
const endpoint = args.endpoint ?? "/v1/completions";
const native = endpoint === "/completion"; // llama-server's: {content, stop, tokens_predicted}
const ban = args["ban-tokens"]?.split("-").map(Number);
const logit_bias = {};
if (ban) for (let t = ban[0]; t <= ban[1]; t++) logit_bias[t] = -100;

// One streamed request: its token count, prompt tokens, and when its first and last tokens came.
async function one(i) {
  const prompt = Array.from({ length: words }, (_, w) => `word${(w * 7 + i) % 97}`).join(" ");
  const res = await fetch(url + endpoint, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ prompt, max_tokens: tokens, temperature: 0, ignore_eos: true,
                           n_predict: tokens, stream: true,
                           stream_options: { include_usage: true },
                           ...(ban ? { logit_bias: native ? Object.entries(logit_bias).map(
                                         ([t]) => [Number(t), false]) : logit_bias } : {}) }),
    signal: AbortSignal.timeout(600000),
  });
  if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
  const decoder = new TextDecoder();
  let buffer = "", usage = null;
  const times = []; // when each piece of text came (one token each, or a few held together)
  for await (const bytes of res.body) {
    const now = performance.now();
    buffer += decoder.decode(bytes, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
      const body = JSON.parse(event.slice(6));
      if (body.error) throw new Error(JSON.stringify(body.error));
      if (body.usage) usage = body.usage;
      if (native && body.stop)
        usage = { completion_tokens: body.tokens_predicted, prompt_tokens: body.tokens_evaluated };
      if (native ? body.content : body.choices?.[0]?.text) times.push(now);
    }
  }
  const generated = usage?.completion_tokens ?? times.length;
  return { generated, prompt: usage?.prompt_tokens ?? 0, times };
}

// Tokens/s in the window where all streams generate (pieces counted as generated/pieces tokens).
function generation(all) {
  const from = Math.max(...all.map((x) => x.times[0] ?? Infinity));
  const to = Math.min(...all.map((x) => x.times.at(-1) ?? -Infinity));
  if (!(to > from)) return 0;
  const tokens = all.reduce((a, x) => a + (x.times.filter((t) => t > from && t <= to).length *
                                           x.generated) / x.times.length, 0);
  return tokens / ((to - from) / 1000);
}

await one(0); // warm-up
let base = 0;
console.log("streams  generation tok/s (aggregate)  per stream  vs 1 stream  end-to-end tok/s  prompt tokens");
for (const n of streams) {
  let best = { gen: 0, e2e: 0, prompt: 0 };
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const all = await Promise.all(Array.from({ length: n }, (_, i) => one(i + 100 * r)));
    const s = (performance.now() - t0) / 1000;
    const gen = generation(all);
    const e2e = all.reduce((a, x) => a + x.generated, 0) / s;
    if (gen > best.gen) best = { gen, e2e: Math.max(best.e2e, e2e), prompt: all.reduce((a, x) => a + x.prompt, 0) / n };
    else best.e2e = Math.max(best.e2e, e2e);
  }
  if (n === streams[0]) base = best.gen / n;
  console.log(`${String(n).padStart(7)}  ${best.gen.toFixed(1).padStart(29)}  ${(best.gen / n).toFixed(1).padStart(10)}` +
              `  ${(best.gen / base).toFixed(2).padStart(10)}x  ${best.e2e.toFixed(1).padStart(16)}  ${best.prompt.toFixed(0).padStart(13)}`);
}
