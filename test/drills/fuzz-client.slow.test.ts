// Fault drill: a hostile client against the queen's HTTP API — random and mutated JSON bodies for
// every route, wrong content types, huge and invalid-UTF-8 headers, odd methods, paths with ../,
// %00 and invalid UTF-8, bad and missing keys — sent as raw bytes over TCP to a real local queen.
// No request may get a 5xx where a 4xx applies: the only 5xx allowed say that no hive or worker is
// there to do the work (this queen has a registered hive that never connects). /health must
// answer afterwards. Every other 5xx is printed whole (status line, headers, body) with the request
// that met it, and every request left unanswered with its request: a body that is not the queen's
// JSON error shape came from whatever stands in front of the queen, not from the queen.
// FUZZ_SEED reproduces a run's requests (not their timing); FUZZ_CLIENT_REQUESTS sets how many
// (default 2,000).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../shared/ids.js";
import { QueenClient } from "../../scripts/local-cloud/queen-client.js";
import { type LocalQueen, startLocalQueen } from "../../scripts/local-cloud/queen.js";
import { FuzzValues, fuzzCount, fuzzSeed } from "../support/fuzz-values.js";
import { type RawOutcome, type RawRequest, sendRaw } from "./raw-http.js";

const ADMIN_KEY = "rbee_sk_drill_fuzz_client";
const OFFLINE_HIVE = "drill-offline-hive";
const REQUESTS = fuzzCount("FUZZ_CLIENT_REQUESTS", 2000);
/** Requests in flight at once. */
const CONCURRENCY = 8;
/** "<status> <code>" of the only 5xx answers allowed: nothing is there to do the work. */
const NO_ONE_THERE = new Set(["503 hive_offline", "503 no_worker_available"]);
/** Methods no HTTP server knows; 501 is their due answer. */
const ODD_METHODS = ["PROPFIND", "FOO"];

const MODEL = "rbee-tiny";
const BODIES: Record<string, Record<string, unknown>> = {
  "/v1/chat/completions": { model: MODEL, messages: [{ role: "user", content: "hi" }], max_tokens: 4, stream: false },
  "/v1/completions": { model: MODEL, prompt: "hi", max_tokens: 4 },
  "/v1/embeddings": { model: MODEL, input: "hi" },
  "/v1/hives": { name: "drill-fuzz-made" },
  "/v1/jobs": { operation: "model_list", hive: OFFLINE_HIVE },
  "/v1/jobs#spawn": { operation: "worker_spawn", hive: OFFLINE_HIVE, model: MODEL, source: "file:/tmp/none.gguf" },
  "/v1/keys": { name: "drill", scopes: ["inference"], expires_in_days: 1 },
  "/v1/workers": { hive: OFFLINE_HIVE, model: MODEL, source: "file:/tmp/none.gguf" },
};

function paths(fuzz: FuzzValues): string[] {
  return [
    "/health",
    "/v1/models",
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/hives",
    `/v1/hives/${OFFLINE_HIVE}/models`,
    `/v1/hives/${OFFLINE_HIVE}/token`,
    "/v1/jobs",
    `/v1/jobs?hive=${OFFLINE_HIVE}&status=running&limit=${fuzz.int(-5, 500)}`,
    `/v1/jobs/${newId("job")}`,
    `/v1/jobs/${newId("job")}/stream`,
    "/v1/keys",
    `/v1/keys/${newId("key")}`,
    `/v1/usage?key_id=${newId("key")}&from=2026-01-01&to=2026-13-45`,
    "/v1/workers",
    `/v1/workers/${newId("wrk")}`,
    `/v1/workers?hive_id=${OFFLINE_HIVE}`,
    `/v1/hive/connect?name=${OFFLINE_HIVE}`,
  ];
}

/** A path made hostile: traversal, NUL, encoded dots, invalid UTF-8, or huge. */
function mutatePath(fuzz: FuzzValues, path: string): Uint8Array | string {
  switch (fuzz.int(0, 7)) {
    case 0:
      return `${path}/../../../etc/passwd`;
    case 1:
      return `${path}%00`;
    case 2:
      return path.replace("/v1/", "/v1/%2e%2e/").replace(/\/[^/]*$/, "/..%2f..%2f");
    case 3:
      return Buffer.concat([Buffer.from(path), Buffer.from([0xff, 0xfe, 0xc3, 0x28])]);
    case 4:
      return `${path}/${"a".repeat(fuzz.pick([1000, 10_000, 100_000]))}`;
    case 5:
      return `${path}?${percentEncode(fuzz.string().slice(0, 2000))}=${percentEncode(fuzz.string().slice(0, 2000))}`;
    case 6:
      return path.replace(/[a-z]+_[a-z0-9]+/, fuzz.pick(["..%2fx", "%00", "wrk_%00", "job_..%2f..%2f", "%ED%A0%80", "%ff"]));
    default:
      return path;
  }
}

/** Every byte of the text's UTF-8 as %XX (encodeURIComponent throws on a lone surrogate). */
function percentEncode(text: string): string {
  return [...Buffer.from(text)].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");
}

function nextRequest(fuzz: FuzzValues): { kind: string; request: RawRequest } {
  const path = fuzz.pick(paths(fuzz));
  const method = fuzz.chance(0.6) ? (BODIES[path] ? "POST" : "GET") : fuzz.pick(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", ...ODD_METHODS]);
  const headers: [string, Uint8Array | string][] = [];
  const auth = fuzz.int(0, 9);
  if (auth < 7) headers.push(["authorization", `Bearer ${ADMIN_KEY}`]);
  else if (auth === 7) headers.push(["authorization", `Bearer rbee_sk_${fuzz.string().replace(/[^\x21-\x7e]/g, "").slice(0, 200)}`]);
  else if (auth === 8) headers.push(["authorization", Buffer.from([0x42, 0x65, 0x61, 0x72, 0x65, 0x72, 0x20, 0xff, 0xfe])]);
  headers.push(["content-type", fuzz.pick(["application/json", "application/json", "text/plain", "multipart/form-data; boundary=x", "application/json; charset=latin1", "\u00ff"])]);
  let kind = "plain";
  if (fuzz.chance(0.05)) {
    headers.push(["x-huge", "h".repeat(fuzz.pick([8_000, 70_000, 300_000]))]);
    kind = "huge header";
  }
  if (fuzz.chance(0.05)) {
    headers.push(["x-invalid-utf8", Buffer.from([0xc3, 0x28, 0xa0, 0xa1])]);
    kind = "invalid utf-8 header";
  }
  let target: Uint8Array | string = path;
  if (fuzz.chance(0.25)) {
    target = mutatePath(fuzz, path);
    kind = kind === "plain" ? "hostile path" : kind;
  }
  const template = BODIES[fuzz.chance(0.1) ? "/v1/jobs#spawn" : path];
  let body: Uint8Array = new Uint8Array();
  const bodyKind = fuzz.int(0, 9);
  if (template && bodyKind < 6) body = Buffer.from(JSON.stringify(bodyKind < 2 ? template : fuzz.mutate(template)));
  else if (bodyKind === 6) body = Buffer.from(JSON.stringify(fuzz.json(4)) ?? "");
  else if (bodyKind === 7) body = fuzz.bytes(fuzz.int(1, 2000));
  else if (bodyKind === 8) body = Buffer.from(fuzz.deeplyNestedJson(fuzz.int(1000, 50_000)));
  return { kind: ODD_METHODS.includes(method) ? "odd method" : kind, request: { method, target, headers, body } };
}

describe("drill: a hostile client fuzzes the queen's HTTP API", () => {
  let dir: string;
  let queen: LocalQueen;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rbee-fuzz-client-"));
    // The floors against floods would answer most of a burst from one key and address with 429
    // (test/queen/rate-limits.test.ts covers them); off here, every request reaches its route.
    queen = await startLocalQueen({ persistDir: join(dir, "queen"), adminKey: ADMIN_KEY, port: 0, vars: { RATE_LIMIT_PER_KEY: "0", RATE_LIMIT_PER_ADDRESS: "0" } });
    await new QueenClient(queen.url, ADMIN_KEY).createHive(OFFLINE_HIVE);
  });

  afterAll(async () => {
    await queen?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("answers every request with a 4xx where one applies, and stays up", async () => {
    const seed = fuzzSeed();
    console.log(`[fuzz-client] seed ${seed} (FUZZ_SEED=${seed} reproduces it), ${REQUESTS} requests`);
    const fuzz = new FuzzValues(seed);
    const port = Number(new URL(queen.url).port);
    const statuses = new Map<RawOutcome, number>();
    const serverErrors = new Map<string, number>();
    const unanswered: string[] = [];
    const unexpected: string[] = [];
    let next = 0;
    const one = async (): Promise<void> => {
      while (next < REQUESTS) {
        next += 1;
        const { kind, request } = nextRequest(fuzz);
        const { outcome, text } = await sendRaw(port, request, 30_000);
        statuses.set(outcome, (statuses.get(outcome) ?? 0) + 1);
        if (typeof outcome !== "number") {
          unanswered.push(`${outcome}: ${describeRequest(kind, request)}`);
        } else if (outcome >= 500) {
          // RFC 9110 §15.6.2: 501 is the answer to a method the server does not recognise.
          const code = outcome === 501 && ODD_METHODS.includes(request.method) ? "501 unrecognised method" : `${outcome} ${errorCodeOf(text)}`;
          serverErrors.set(code, (serverErrors.get(code) ?? 0) + 1);
          // Every 5xx but the expected ones is shown whole, with the request that met it.
          if (!NO_ONE_THERE.has(code) && code !== "501 unrecognised method") unexpected.push(`${describeRequest(kind, request)}\n  answer: ${JSON.stringify(text)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, one));

    const histogram = Object.fromEntries([...statuses].sort(([a], [b]) => String(a).localeCompare(String(b))));
    console.log(`[fuzz-client] tried ${REQUESTS} requests; statuses: ${JSON.stringify(histogram)}`);
    console.log(`[fuzz-client] 5xx by code: ${JSON.stringify(Object.fromEntries(serverErrors))}`);
    if (unanswered.length > 0) console.log(`[fuzz-client] unanswered: ${JSON.stringify(unanswered.slice(0, 20))}`);
    for (const line of unexpected) console.log(`[fuzz-client] unexpected 5xx: ${line}`);

    expect([...serverErrors.keys()].filter((code) => !NO_ONE_THERE.has(code) && code !== "501 unrecognised method")).toEqual([]);
    // The HTTP server may hang up on a request it cannot parse (huge or invalid headers), never on a sane one, and never stall.
    // A method it does not know is answered 501 before its body is read; when that body is big, the
    // close that follows resets the socket while the client still writes, and the 501 is lost with it.
    expect(unanswered.filter((line) => line.startsWith("timeout") || !/huge header|invalid utf-8|hostile path|odd method/.test(line))).toEqual([]);
    const health = await fetch(`${queen.url}/health`);
    expect(health.status).toBe(200);
  });
});

/** The `error.code` of an answer's JSON body (OpenAI's or Anthropic's error shape), or "?". */
function errorCodeOf(answer: string): string {
  const body = answer.slice(answer.indexOf("\r\n\r\n") + 4);
  const start = body.indexOf("{");
  try {
    const parsed = JSON.parse(body.slice(start, body.lastIndexOf("}") + 1)) as { error?: { code?: unknown; type?: unknown } };
    return String(parsed.error?.code ?? parsed.error?.type ?? "?");
  } catch {
    return "?";
  }
}

/** A request as the drill's report shows it: its kind, method, target, headers and body, cut short. */
function describeRequest(kind: string, request: RawRequest): string {
  const text = (bytes: Uint8Array | string, max: number) => JSON.stringify(Buffer.from(bytes).toString("latin1").slice(0, max));
  const headers = request.headers.map(([name, value]) => `${name}: ${text(value, 80)}`).join(", ");
  return `${kind} ${request.method} ${text(request.target, 160)} [${headers}] body(${request.body.length} bytes) ${text(request.body, 300)}`;
}
