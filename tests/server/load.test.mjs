// A bounded load test on loopback: a fixed number of requests from a fixed number of concurrent
// clients, each request bounded in time; prints p50/p99 latency and throughput, and fails on any
// error. (Timings on a shared machine say little; the error count is what is checked.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib.mjs";

const REQUESTS = 160, CLIENTS = 8, MAX_TOKENS = 16, LIMIT_MS = 120000;

test(`load: ${REQUESTS} requests from ${CLIENTS} clients, no errors`, async () => {
  const s = await startServer(["--parallel", "4", "--queue", "16"]);
  const words = ["Once", "The dog", "A little girl", "One day", "Tom and Sue", "The sun"];
  const latencies = [];
  let errors = 0, next = 0, tokens = 0;
  const deadline = Date.now() + LIMIT_MS;
  const t0 = Date.now();
  const client = async (id) => {
    while (next < REQUESTS && Date.now() < deadline) {
      const i = next++;
      const start = performance.now();
      try {
        const res = await fetch(s.url + "/v1/chat/completions", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            messages: [{ role: "user", content: `${words[i % words.length]} ${id}` }],
            max_tokens: MAX_TOKENS, temperature: 0.7, seed: i }),
          signal: AbortSignal.timeout(30000),
        });
        const body = await res.json();
        if (res.status !== 200) throw new Error(`${res.status}: ${JSON.stringify(body)}`);
        tokens += body.usage.completion_tokens;
        latencies.push(performance.now() - start);
      } catch (err) {
        errors++;
        console.error(`request ${i}: ${err}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, id) => client(id)));
  const seconds = (Date.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  console.log(`load: ${latencies.length} ok, ${errors} errors in ${seconds.toFixed(1)} s; ` +
    `latency p50 ${pct(0.5).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms; ` +
    `${(tokens / seconds).toFixed(0)} generated tok/s`);
  assert.equal((await s.stop()).code, 0);
  assert.equal(errors, 0);
  assert.equal(latencies.length, REQUESTS, "not every request ran within the time limit");
});
