// Helpers for the server tests: start strata-server on a free loopback port, run the strata
// tool for reference outputs, and call endpoints with curl.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";

export const build = process.env.STRATA_BUILD;
export const model = process.env.STRATA_MODEL;
export const tmp = process.env.STRATA_TMP;
if (!build || !model || !tmp) throw new Error("run through tests/server/run.sh");

export function tempDir(name) {
  return mkdtempSync(join(tmp, name + "-"));
}

// Starts a server (`--port 0`: the kernel picks a free port, which the server prints).
export async function startServer(args = [], { env = {} } = {}) {
  const proc = spawn(join(build, "strata-server"),
    ["-m", model, "--host", "127.0.0.1", "--port", "0", "--threads", "1", ...args],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
  let log = "";
  const exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server did not start:\n" + log)), 30000);
    proc.stderr.on("data", (d) => {
      log += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    exited.then((e) => reject(new Error(`server exited (${e.code}, ${e.signal}):\n${log}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    port, url, proc, exited,
    log: () => log,
    // SIGTERM, then the exit status (the server drains and exits 0)
    async stop() {
      proc.kill("SIGTERM");
      return await exited;
    },
  };
}

// strata's one-shot greedy continuation of `prompt` (without the final newline).
export function strataOneShot(prompt, n) {
  const out = execFileSync(join(build, "strata"),
    ["-m", model, "-p", prompt, "-n", String(n), "--temp", "0", "--threads", "1"],
    { stdio: ["ignore", "pipe", "ignore"] }).toString();
  return out.endsWith("\n") ? out.slice(0, -1) : out;
}

// curl: { status, headers (lower-case names), body }.
export function curl(url, { method = "GET", body, headers = {}, dataFile } = {}) {
  const args = ["-s", "-S", "-i", "-X", method, url, "--max-time", "60"];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  if (body !== undefined) args.push("-H", "Content-Type: application/json", "--data-binary", body);
  if (dataFile) args.push("-H", "Content-Type: application/json", "--data-binary", "@" + dataFile);
  const raw = execFileSync("curl", args, { maxBuffer: 64 << 20 }).toString();
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).split("\r\n");
  const status = Number(head[0].split(" ")[1]);
  const out = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(":");
    out[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, headers: out, body: raw.slice(split + 4) };
}

export async function postJson(url, body, headers = {}) {
  const res = await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: await res.json() };
}
