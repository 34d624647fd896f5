// strata-server against the official openai client and curl, on stories260K (a base model:
// chat messages are joined as plain text, so a chat whose one message is P continues P exactly
// as `strata -p P` does).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { startServer, strataOneShot, curl, postJson, tempDir, tmp } from "./lib.mjs";

const N = 40;
const prompts = ["Once upon a time", "The little dog", "Lily and Tom went to the park", "One day, a bird"];
const solo = new Map();
let server, client;

before(async () => {
  for (const p of prompts) solo.set(p, strataOneShot(p, N));
  server = await startServer(["--parallel", "4", "--alias", "stories"]);
  client = new OpenAI({ baseURL: server.url + "/v1", apiKey: "unused", maxRetries: 0 });
});
after(async () => {
  const e = await server.stop();
  assert.equal(e.code, 0, server.log());
});

test("greedy completions equal strata's output, streamed and not", async () => {
  for (const p of prompts.slice(0, 2)) {
    const r = await client.completions.create({ model: "stories", prompt: p, max_tokens: N, temperature: 0 });
    assert.equal(r.choices[0].text, solo.get(p));
    assert.equal(r.object, "text_completion");
    assert.equal(r.usage.completion_tokens, N);
    assert.ok(r.usage.prompt_tokens > 0);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + N);
    const stream = await client.completions.create({ model: "stories", prompt: p, max_tokens: N, temperature: 0, stream: true });
    let text = "", finish = null;
    for await (const chunk of stream) {
      text += chunk.choices[0].text;
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    assert.equal(text, solo.get(p));
    assert.equal(finish, "length");
  }
});

test("greedy chat completions equal strata's output, streamed (with usage) and not", async () => {
  const p = prompts[0];
  const r = await client.chat.completions.create({
    model: "stories", messages: [{ role: "user", content: p }], max_tokens: N, temperature: 0 });
  assert.equal(r.choices[0].message.role, "assistant");
  assert.equal(r.choices[0].message.content, solo.get(p));
  assert.equal(r.object, "chat.completion");
  const stream = await client.chat.completions.create({
    model: "stories", messages: [{ role: "user", content: p }], max_tokens: N, temperature: 0,
    stream: true, stream_options: { include_usage: true } });
  let text = "", role = null, usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    if (!chunk.choices.length) continue;
    role = chunk.choices[0].delta.role ?? role;
    text += chunk.choices[0].delta.content ?? "";
  }
  assert.equal(text, solo.get(p));
  assert.equal(role, "assistant");
  assert.equal(usage.completion_tokens, N);
  // the same prompt again comes from the prompt cache (all but the last token)
  assert.equal(usage.prompt_tokens_details.cached_tokens, usage.prompt_tokens - 1);
});

test("sampling options, stop strings, seeds and logprobs", async () => {
  const p = prompts[0];
  const want = solo.get(p);
  // a stop string cuts the text before it and finishes with "stop"
  const word = " Lily";
  assert.ok(want.includes(word), want);
  const r = await client.completions.create({ model: "stories", prompt: p, max_tokens: N, temperature: 0, stop: [word] });
  assert.equal(r.choices[0].text, want.slice(0, want.indexOf(word)));
  assert.equal(r.choices[0].finish_reason, "stop");
  // the same seed gives the same sample; temperature sampling with top_k/top_p/min_p is accepted
  const opts = { model: "stories", prompt: p, max_tokens: 24, temperature: 1.2, top_p: 0.9, seed: 7 };
  const a = await client.completions.create(opts);
  const b = await client.completions.create(opts);
  assert.equal(a.choices[0].text, b.choices[0].text);
  const k = await postJson(server.url + "/v1/completions", { prompt: p, max_tokens: 8, temperature: 0.8, top_k: 5, min_p: 0.1, seed: 1 });
  assert.equal(k.status, 200);
  // logprobs: the greedy token is the most likely alternative, and probabilities are <= 1
  const c = await client.chat.completions.create({
    model: "stories", messages: [{ role: "user", content: p }], max_tokens: 5, temperature: 0,
    logprobs: true, top_logprobs: 3 });
  const content = c.choices[0].logprobs.content;
  assert.equal(content.length, 5);
  for (const t of content) {
    assert.equal(t.top_logprobs.length, 3);
    assert.equal(t.top_logprobs[0].token, t.token);
    assert.ok(t.logprob <= 0 && t.top_logprobs[1].logprob <= t.top_logprobs[0].logprob);
  }
  assert.equal(content.map((t) => t.token).join(""), c.choices[0].message.content);
  const lp = await client.completions.create({ model: "stories", prompt: p, max_tokens: 4, temperature: 0, logprobs: 2 });
  assert.equal(lp.choices[0].logprobs.tokens.length, 4);
  assert.equal(lp.choices[0].logprobs.tokens.join(""), lp.choices[0].text);
});

test("concurrent streams each equal their solo output", async () => {
  const run = async (p) => {
    const stream = await client.chat.completions.create({
      model: "stories", messages: [{ role: "user", content: p }], max_tokens: N, temperature: 0, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    return text;
  };
  const counter = (name) => Number(new RegExp(`^${name} (\\d+)`, "m").exec(curl(server.url + "/metrics").body)[1]);
  const passes0 = counter("strata_batched_decodes_total"), rows0 = counter("strata_batched_decode_rows_total");
  for (let round = 0; round < 2; round++) {
    const outs = await Promise.all(prompts.map(run));
    prompts.forEach((p, i) => assert.equal(outs[i], solo.get(p), `stream ${i}: ${p}`));
  }
  // the streams' tokens were decoded together: more rows than forward passes
  const passes = counter("strata_batched_decodes_total") - passes0;
  const rows = counter("strata_batched_decode_rows_total") - rows0;
  assert.ok(rows > passes * 1.5, `${rows} rows in ${passes} passes`);
});

test("/v1/models, /health and /metrics", async () => {
  const models = [];
  for await (const m of client.models.list()) models.push(m.id);
  assert.deepEqual(models, ["stories"]);
  const h = curl(server.url + "/health");
  assert.equal(h.status, 200);
  assert.equal(JSON.parse(h.body).status, "ok");
  const m = curl(server.url + "/metrics");
  assert.equal(m.status, 200);
  assert.match(m.body, /strata_requests_total\{endpoint="\/v1\/completions",status="200"\} \d+/);
  assert.match(m.body, /strata_generated_tokens_total [1-9]\d*/);
  assert.match(m.body, /strata_prompt_tokens_cached_total [1-9]\d*/);
  for (const g of ["strata_queue_length", "strata_batch_size", "strata_kv_pages_in_use",
    "strata_generation_tokens_per_second", "strata_prompt_cache_files"])
    assert.match(m.body, new RegExp(`^${g} `, "m"));
});

test("every error status, with an OpenAI error body", async () => {
  const url = server.url;
  const expectError = (r, status, param) => {
    assert.equal(r.status, status, r.body);
    const e = JSON.parse(r.body).error;
    assert.equal(typeof e.message, "string");
    assert.ok(e.type);
    if (param) assert.equal(e.param, param);
    return e;
  };
  expectError(curl(url + "/v1/completions", { method: "POST", body: "{not json" }), 400);
  expectError(curl(url + "/v1/completions", { method: "POST", body: "[1,2]" }), 400);
  expectError(curl(url + "/v1/completions", { method: "POST", body: JSON.stringify({ prompt: "a", temperature: "hot" }) }), 400, "temperature");
  expectError(curl(url + "/v1/completions", { method: "POST", body: JSON.stringify({ prompt: "a", max_tokens: -3 }) }), 400, "max_tokens");
  expectError(curl(url + "/v1/completions", { method: "POST", body: JSON.stringify({ prompt: 5 }) }), 400, "prompt");
  expectError(curl(url + "/v1/chat/completions", { method: "POST", body: JSON.stringify({ messages: "hi" }) }), 400, "messages");
  expectError(curl(url + "/v1/chat/completions", { method: "POST", body: JSON.stringify({ messages: [{ role: "wizard", content: "x" }] }) }), 400, "messages[0].role");
  expectError(curl(url + "/v1/chat/completions", { method: "POST", body: JSON.stringify({ messages: [{ role: "user", content: "x" }], stream: "yes" }) }), 400, "stream");
  const long = "Once upon a time there was a dog. ".repeat(200);
  const e = expectError(curl(url + "/v1/completions", { method: "POST", body: JSON.stringify({ prompt: long }) }), 400, "prompt");
  assert.equal(e.code, "context_length_exceeded");
  const nf = expectError(curl(url + "/v1/completions", { method: "POST", body: JSON.stringify({ model: "gpt-9", prompt: "a" }) }), 404, "model");
  assert.equal(nf.code, "model_not_found");
  expectError(curl(url + "/v1/models/gpt-9"), 404);
  expectError(curl(url + "/v1/nothing-here"), 404);
  // the openai client sees the same as exceptions with the status
  await assert.rejects(client.completions.create({ model: "gpt-9", prompt: "a" }), (err) => err.status === 404);
  await assert.rejects(client.completions.create({ model: "stories", prompt: "a", top_p: 7 }), (err) => err.status === 400);
});

test("a body over --max-body-kb is refused with 413", async () => {
  const s = await startServer(["--max-body-kb", "1"]);
  try {
    const file = join(tmp, "big.json");
    writeFileSync(file, JSON.stringify({ prompt: "x".repeat(4000) }));
    const r = curl(s.url + "/v1/completions", { method: "POST", dataFile: file });
    assert.equal(r.status, 413);
    assert.ok(JSON.parse(r.body).error.message.includes("too large"));
    assert.equal(curl(s.url + "/v1/completions", { method: "POST", body: JSON.stringify({ prompt: "Once", max_tokens: 2 }) }).status, 200);
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});

test("--api-key: 401 without the key, 200 with it; /health stays open", async () => {
  const s = await startServer(["--api-key", "sekrit"]);
  try {
    const body = JSON.stringify({ prompt: "Once", max_tokens: 2 });
    const none = curl(s.url + "/v1/completions", { method: "POST", body });
    assert.equal(none.status, 401);
    assert.equal(JSON.parse(none.body).error.code, "invalid_api_key");
    assert.equal(curl(s.url + "/v1/models", { headers: { Authorization: "Bearer wrong" } }).status, 401);
    assert.equal(curl(s.url + "/v1/completions", { method: "POST", body, headers: { Authorization: "Bearer sekrit" } }).status, 200);
    assert.equal(curl(s.url + "/health").status, 200);
    const bad = new OpenAI({ baseURL: s.url + "/v1", apiKey: "wrong", maxRetries: 0 });
    await assert.rejects(bad.models.list(), (err) => err.status === 401);
    const good = new OpenAI({ baseURL: s.url + "/v1", apiKey: "sekrit", maxRetries: 0 });
    const r = await good.completions.create({ model: "stories260K", prompt: prompts[0], max_tokens: N, temperature: 0 });
    assert.equal(r.choices[0].text, solo.get(prompts[0]));
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});

// A request that keeps its slot for seconds: a long prompt fed one token per step.
const slowArgs = ["--ctx-size", "4096", "--prefill-chunk", "1", "--parallel", "1"];
const slowPrompt = "The little dog ran to the park. ".repeat(300);

test("a full queue answers 503 with Retry-After", async () => {
  const s = await startServer([...slowArgs, "--queue", "1"]);
  try {
    const first = postJson(s.url + "/v1/completions", { prompt: slowPrompt, max_tokens: 4 });
    await new Promise((r) => setTimeout(r, 300));
    const second = postJson(s.url + "/v1/completions", { prompt: "Once", max_tokens: 2 });
    await new Promise((r) => setTimeout(r, 200));
    const third = curl(s.url + "/v1/completions", { method: "POST", body: JSON.stringify({ prompt: "Once", max_tokens: 2 }) });
    assert.equal(third.status, 503, third.body);
    assert.ok(Number(third.headers["retry-after"]) >= 1);
    assert.equal(JSON.parse(third.body).error.code, "queue_full");
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});

test("a client that disconnects mid-stream frees its slot at once", async () => {
  const s = await startServer(["--ctx-size", "4096", "--parallel", "1"]);
  try {
    const c = new OpenAI({ baseURL: s.url + "/v1", apiKey: "x", maxRetries: 0 });
    const ac = new AbortController();
    const stream = await c.completions.create(
      { model: "stories260K", prompt: slowPrompt, max_tokens: 3000, temperature: 0, stream: true },
      { signal: ac.signal });
    let got = 0;
    try { // (the client ends the iteration or throws, as its version does)
      for await (const chunk of stream) if (++got === 3) { ac.abort(); break; }
    } catch (err) {
      assert.ok(ac.signal.aborted, String(err));
    }
    assert.equal(got, 3);
    const t0 = Date.now();
    let busy = 1;
    while (busy && Date.now() - t0 < 5000) {
      busy = JSON.parse(curl(s.url + "/health").body).slots_processing;
      if (busy) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(busy, 0, "the slot is still taken");
    assert.match(curl(s.url + "/metrics").body, /strata_requests_cancelled_total 1/);
    // and the next request is served
    const r = await c.completions.create({ model: "stories260K", prompt: prompts[0], max_tokens: N, temperature: 0 });
    assert.equal(r.choices[0].text, solo.get(prompts[0]));
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});

test("the prompt cache resumes a conversation after a restart", async () => {
  const dir = tempDir("cache");
  const first = "Once upon a time, there was a little girl named Lily. She loved to play outside";
  const longer = first + " in the park with her friends";
  const want = strataOneShot(longer, N);
  let s = await startServer(["--cache-dir", dir]);
  let c = new OpenAI({ baseURL: s.url + "/v1", apiKey: "x", maxRetries: 0 });
  const r1 = await c.completions.create({ model: "stories260K", prompt: first, max_tokens: 8, temperature: 0 });
  assert.equal(r1.usage.prompt_tokens_details.cached_tokens, 0);
  assert.equal((await s.stop()).code, 0);
  s = await startServer(["--cache-dir", dir]);
  try {
    assert.match(s.log(), /\(1 conversation\(s\) found\)/);
    c = new OpenAI({ baseURL: s.url + "/v1", apiKey: "x", maxRetries: 0 });
    const r2 = await c.completions.create({ model: "stories260K", prompt: longer, max_tokens: N, temperature: 0 });
    // every token of the first prompt came from the file, and the result is unchanged
    assert.ok(r2.usage.prompt_tokens_details.cached_tokens >= r1.usage.prompt_tokens,
      JSON.stringify(r2.usage));
    assert.equal(r2.choices[0].text, want);
    // a branch (a shared prefix, then different text) forks the cached conversation
    const r3 = await c.completions.create({ model: "stories260K", prompt: first + " with her dog", max_tokens: N, temperature: 0 });
    assert.ok(r3.usage.prompt_tokens_details.cached_tokens >= r1.usage.prompt_tokens - 1);
    assert.equal(r3.choices[0].text, strataOneShot(first + " with her dog", N));
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});

test("SIGTERM lets a running stream finish, refuses new requests, and exits 0", async () => {
  const s = await startServer(["--ctx-size", "4096"]);
  const c = new OpenAI({ baseURL: s.url + "/v1", apiKey: "x", maxRetries: 0 });
  const stream = await c.completions.create(
    { model: "stories260K", prompt: slowPrompt, max_tokens: 1500, temperature: 0, stream: true });
  const it = stream[Symbol.asyncIterator]();
  const firstChunk = await it.next();
  assert.equal(firstChunk.done, false);
  s.proc.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 100));
  const refused = curl(s.url + "/v1/completions", { method: "POST", body: JSON.stringify({ prompt: "Once", max_tokens: 2 }) });
  assert.equal(refused.status, 503);
  let finish = null, n = 1;
  for (let x = await it.next(); !x.done; x = await it.next()) {
    n++;
    finish = x.value.choices[0].finish_reason ?? finish;
  }
  assert.equal(finish, "length");
  const e = await s.exited;
  assert.equal(e.code, 0, s.log());
  assert.match(s.log(), /SIGTERM: finishing running requests/);
});

test("the prompt cache deletes the least recently used files past --cache-size-mb", async () => {
  const dir = tempDir("lru");
  const s = await startServer(["--cache-dir", dir, "--cache-size-mb", "1"]);
  try {
    const c = new OpenAI({ baseURL: s.url + "/v1", apiKey: "x", maxRetries: 0 });
    const starts = ["Apples", "Bananas", "Cherries", "Dates", "Eggs", "Figs", "Grapes", "Honey", "Ice", "Jam"];
    for (const w of starts)
      await c.completions.create({ model: "stories260K", prompt: `${w} are good to eat, said Mom.`, max_tokens: 200 });
    const m = curl(s.url + "/metrics").body;
    const files = Number(/^strata_prompt_cache_files (\d+)/m.exec(m)[1]);
    const bytes = Number(/^strata_prompt_cache_bytes (\d+)/m.exec(m)[1]);
    assert.ok(files >= 1 && files < starts.length, `files ${files}`);
    assert.ok(bytes <= 1 << 20, `bytes ${bytes}`);
    // the newest conversation is still there, the oldest is gone
    const last = await c.completions.create({ model: "stories260K", prompt: `Jam are good to eat, said Mom.`, max_tokens: 1 });
    assert.ok(last.usage.prompt_tokens_details.cached_tokens > 0);
    const first = await c.completions.create({ model: "stories260K", prompt: `Apples are good to eat, said Mom.`, max_tokens: 1 });
    assert.ok(first.usage.prompt_tokens_details.cached_tokens < first.usage.prompt_tokens - 1, JSON.stringify(first.usage));
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});

test("a chat template's next turn resumes from the cached conversation", async () => {
  const s = await startServer(["--chat-template", "chatml"]);
  try {
    const c = new OpenAI({ baseURL: s.url + "/v1", apiKey: "x", maxRetries: 0 });
    const messages = [{ role: "system", content: "You tell stories." }, { role: "user", content: "Once upon a time" }];
    const r1 = await c.chat.completions.create({ model: "stories260K", messages, max_tokens: 12, temperature: 0 });
    assert.equal(r1.usage.prompt_tokens_details.cached_tokens, 0);
    // chatml's markers make the prompt longer than the two contents alone
    const plain = await c.completions.create({ model: "stories260K", prompt: "You tell stories.\nOnce upon a time", max_tokens: 1 });
    assert.ok(r1.usage.prompt_tokens > plain.usage.prompt_tokens + 4);
    messages.push({ role: "assistant", content: r1.choices[0].message.content }, { role: "user", content: "And then?" });
    const r2 = await c.chat.completions.create({ model: "stories260K", messages, max_tokens: 12, temperature: 0 });
    assert.ok(r2.usage.prompt_tokens_details.cached_tokens >= r1.usage.prompt_tokens,
      JSON.stringify([r1.usage, r2.usage]));
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});
