// How the `rbee` CLI treats the queen's answers, against a stand-in queen (a plain HTTP server) that
// answers as slowly, partly or in as many pages as a test needs: a deadline for a queen that never
// answers, streams that run past it once begun, every page of a paged listing, and flag values
// refused before any request.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local-cloud/queen.js";

type Handler = (request: IncomingMessage, url: URL, response: ServerResponse) => void;

/** A queen stand-in: each test sets `handle`; every request is recorded. */
class StandInQueen {
  handle: Handler = (_request, _url, response) => response.writeHead(404).end();
  readonly requests: URL[] = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<StandInQueen> {
    const server = createServer();
    const queen = new StandInQueen(server);
    server.on("request", (request, response) => {
      const url = new URL(request.url ?? "/", "http://stand-in");
      queen.requests.push(url);
      queen.handle(request, url, response);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return queen;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function sendJson(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** Writes `events` as Server-Sent Events one every `gapMs`, after sending the head at once. */
function dripEvents(response: ServerResponse, events: readonly string[], gapMs: number): void {
  response.writeHead(200, { "content-type": "text/event-stream" });
  response.flushHeaders();
  let next = 0;
  const timer = setInterval(() => {
    const event = events[next++];
    if (event === undefined) {
      clearInterval(timer);
      response.end();
      return;
    }
    response.write(`data: ${event}\n\n`);
  }, gapMs);
  response.on("close", () => clearInterval(timer));
}

describe("the rbee CLI's requests", () => {
  let queen: StandInQueen;
  let configHome = "";

  const rbee = (args: string[], env: Record<string, string> = {}) =>
    execa("node", ["bin/rbee.js", ...args], {
      cwd: PROJECT_ROOT,
      env: { XDG_CONFIG_HOME: configHome, RBEE_QUEEN_URL: queen.url, RBEE_API_KEY: "rbee_sk_stand_in", RBEE_TIMEOUT_SECONDS: "", ...env },
      reject: false,
      timeout: 30_000,
    });

  beforeAll(async () => {
    configHome = await mkdtemp(join(tmpdir(), "rbee-cli-requests-"));
    queen = await StandInQueen.start();
  });

  afterEach(() => {
    queen.requests.length = 0;
  });

  afterAll(async () => {
    await queen?.close();
    await rm(configHome, { recursive: true, force: true });
  });

  it("gives up on a queen that accepts a request and never answers, with exit 3 naming the queen and the wait", async () => {
    queen.handle = () => {}; // holds every request open
    const started = Date.now();
    const status = await rbee(["status"], { RBEE_TIMEOUT_SECONDS: "1" });
    expect(status.exitCode).toBe(3);
    expect(status.stderr).toContain(`the queen at ${queen.url} did not answer GET /health within 1 s`);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("refuses an RBEE_TIMEOUT_SECONDS that is not a number of seconds as a usage error", async () => {
    const status = await rbee(["status"], { RBEE_TIMEOUT_SECONDS: "soon" });
    expect(status.exitCode).toBe(2);
    expect(status.stderr).toContain("RBEE_TIMEOUT_SECONDS: expected a number of seconds above 0, got 'soon'");
    expect(queen.requests).toEqual([]);
  });

  it("reads a chat stream that began in time to its end, however long past the timeout it runs", async () => {
    const words = ["one ", "two ", "three ", "four ", "five ", "six"];
    const chunks = words.map((word) => JSON.stringify({ choices: [{ delta: { content: word }, finish_reason: null }] }));
    queen.handle = (_request, _url, response) => dripEvents(response, [...chunks, "[DONE]"], 400);
    const chat = await rbee(["chat", "-m", "rbee-tiny", "Hello"], { RBEE_TIMEOUT_SECONDS: "1" });
    expect(chat.exitCode, String(chat.stderr)).toBe(0);
    expect(chat.stdout).toBe(words.join(""));
  });

  it("asks the one model loaded when chat names none, and says which there are when it cannot tell", async () => {
    let models = [{ id: "chat-model", object: "model", state: "loaded" }, { id: "other", object: "model", state: "loadable" }];
    const asked: string[] = [];
    queen.handle = (request, url, response) => {
      if (url.pathname === "/v1/models") return sendJson(response, { object: "list", data: models });
      let body = "";
      request.on("data", (piece: Buffer) => (body += piece.toString()));
      request.on("end", () => {
        asked.push((JSON.parse(body) as { model: string }).model);
        dripEvents(response, [JSON.stringify({ choices: [{ delta: { content: "hi" }, finish_reason: null }] }), "[DONE]"], 1);
      });
    };
    const chat = await rbee(["chat", "Hello"]);
    expect(chat.exitCode, String(chat.stderr)).toBe(0);
    expect(chat.stdout).toBe("hi");
    expect(asked).toEqual(["chat-model"]);

    models = [{ id: "chat-model", object: "model", state: "loaded" }, { id: "other", object: "model", state: "loaded" }];
    const unclear = await rbee(["chat", "Hello"]);
    expect(unclear.exitCode).toBe(2);
    expect(unclear.stderr).toContain("say which model to ask with -m <model>: the queen serves chat-model (loaded), other (loaded)");
    expect(asked).toEqual(["chat-model"]);
  });

  it("follows a job stream that began in time to its end, however long past the timeout it runs", async () => {
    const stamp = (seq: number, event: Record<string, unknown>) => JSON.stringify({ ...event, job_id: "job_slow", hive: "h", ts: new Date().toISOString(), seq });
    const events = [1, 2, 3, 4, 5].map((seq) => stamp(seq, { type: "narration", action: "step", message: `step ${seq}` }));
    queen.handle = (_request, _url, response) => dripEvents(response, [...events, stamp(6, { type: "done" })], 400);
    const watched = await rbee(["jobs", "watch", "job_slow"], { RBEE_TIMEOUT_SECONDS: "1" });
    expect(watched.exitCode, String(watched.stderr)).toBe(0);
    expect(watched.stdout).toContain("job_slow step: step 5");
    expect(watched.stdout).toContain("job_slow done");
  });

  it("says once that a job its hive cancelled was cancelled", async () => {
    const cancelled = JSON.stringify({ type: "cancelled", message: "job job_gone was cancelled", job_id: "job_gone", hive: "h", ts: new Date().toISOString(), seq: 1 });
    queen.handle = (request, _url, response) => {
      if (request.method === "POST") return response.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ job_id: "job_gone", stream_url: "/v1/jobs/job_gone/stream" }));
      dripEvents(response, [cancelled], 10);
    };
    const pulled = await rbee(["models", "pull", "hf:org/repo", "--hive", "h"]);
    expect(pulled.exitCode).toBe(1);
    expect(pulled.stdout).toBe("job_gone cancelled");
    expect(pulled.stderr).toBe("rbee: job job_gone was cancelled");
  });

  it("keeps a cancelled job's reason when it says more than that it was cancelled", async () => {
    const reason = "hive 'h' did not confirm the cancel within 30 s; the operation may have finished on the hive anyway";
    const cancelled = JSON.stringify({ type: "cancelled", message: reason, job_id: "job_late", hive: "h", ts: new Date().toISOString(), seq: 1 });
    queen.handle = (_request, _url, response) => dripEvents(response, [cancelled], 10);
    const watched = await rbee(["jobs", "watch", "job_late"]);
    expect(watched.exitCode).toBe(1);
    expect(watched.stderr).toBe(`rbee: job job_late was cancelled: ${reason}`);
  });

  it("follows a queen's refusal that suggests an API call with the rbee command for it", async () => {
    const refuse = (message: string, code: string) => (_request: IncomingMessage, _url: URL, response: ServerResponse) =>
      response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message, type: "invalid_request_error", param: "hive", code } }));
    queen.handle = refuse("No hive named 'nohive'; register it with POST /v1/hives.", "hive_not_found");
    const listed = await rbee(["models", "ls", "--hive", "nohive"]);
    expect(listed.exitCode).toBe(1);
    expect(listed.stderr).toBe("rbee: No hive named 'nohive'; register it with POST /v1/hives. With rbee: rbee hives add nohive");
    queen.handle = refuse(`No alias 'chat'; PUT /v1/models/chat/alias {"model": "…"} creates it.`, "alias_not_found");
    expect((await rbee(["models", "alias", "chat"])).stderr).toContain("With rbee: rbee models alias chat <model>");
  });

  it("shows a hive's machine and, where its memory budget offers less, what it offers", async () => {
    const hive = (name: string, ramTotal: number) => ({
      name,
      online: true,
      machine: { hive_version: "0.1.0", os: "linux", arch: "x64", cpu_cores: 2, memory_bytes: 24 * 1024 ** 3 },
      devices: { gpus: [], ram_total_bytes: ramTotal },
      last_seen_at: null,
      token_revoked_at: null,
    });
    queen.handle = (_request, _url, response) => sendJson(response, { object: "list", data: [hive("budgeted", 4 * 1024 ** 2), hive("whole", 24 * 1024 ** 3)], has_more: false, next_after: null });
    const listed = await rbee(["hives", "ls"]);
    expect(listed.exitCode, String(listed.stderr)).toBe(0);
    const lines = String(listed.stdout).split("\n");
    expect(lines.find((line) => line.startsWith("budgeted"))).toContain("24.0 GiB (offers 4.0 MiB)");
    expect(lines.find((line) => line.startsWith("whole"))).not.toContain("offers");
  });

  it("lists every page of a paged listing, passing each page's next_after back as after", async () => {
    const day = (n: number) => `2026-01-0${n}`;
    const row = (n: number) => ({ key_id: "key_a", day: day(n), requests: n, prompt_tokens: 1, completion_tokens: 1 });
    queen.handle = (_request, url, response) => {
      const after = url.searchParams.get("after");
      if (after === null) return sendJson(response, { object: "list", data: [row(1), row(2)], has_more: true, next_after: `${day(2)}:key_a` });
      if (after === `${day(2)}:key_a`) return sendJson(response, { object: "list", data: [row(3), row(4)], has_more: true, next_after: `${day(4)}:key_a` });
      sendJson(response, { object: "list", data: [row(5)], has_more: false, next_after: null });
    };
    const usage = await rbee(["usage", "--key", "key_a", "--json"]);
    expect(usage.exitCode, String(usage.stderr)).toBe(0);
    expect((JSON.parse(String(usage.stdout)) as Array<{ day: string }>).map((usageRow) => usageRow.day)).toEqual([1, 2, 3, 4, 5].map(day));
    expect(queen.requests.map((url) => url.searchParams.get("after"))).toEqual([null, `${day(2)}:key_a`, `${day(4)}:key_a`]);
    expect(queen.requests.every((url) => url.searchParams.get("key_id") === "key_a")).toBe(true);
  });

  it("stops with exit 1 when a page says more follows but gives the same cursor again, rather than paging forever", async () => {
    queen.handle = (_request, _url, response) => sendJson(response, { object: "list", data: [], has_more: true, next_after: "key_same" });
    const keys = await rbee(["keys", "ls"]);
    expect(keys.exitCode).toBe(1);
    expect(keys.stderr).toContain("no new next_after");
    expect(queen.requests).toHaveLength(2);
  });

  it("says which key and days an empty usage answer is about", async () => {
    queen.handle = (_request, _url, response) => sendJson(response, { object: "list", data: [], has_more: false, next_after: null });
    const usage = await rbee(["usage", "--key", "key_nope", "--from", "2026-12-01", "--to", "2026-12-06"]);
    expect(usage.exitCode).toBe(0);
    expect(usage.stdout).toContain("no usage recorded for a key with id 'key_nope' from 2026-12-01 to 2026-12-06");
  });

  it("refuses bad flag values as usage errors naming the flag and the value, before any request", async () => {
    const refusals: Array<[string[], string]> = [
      [["keys", "create", "--expires-in-days", "abc"], "--expires-in-days: expected a positive integer up to 3650, got 'abc'"],
      [["keys", "create", "--rpm", "0"], "--rpm: expected a positive integer up to 1000000000000, got '0'"],
      [["keys", "create", "--tpm", "1.5"], "--tpm: expected a positive integer up to 1000000000000, got '1.5'"],
      [["keys", "create", "--daily-tokens", "1000000000001"], "--daily-tokens: expected a positive integer up to 1000000000000, got '1000000000001'"],
      [["keys", "create", "--scopes", "inference,root"], "--scopes: expected a comma-separated list of inference, admin, metrics, got 'inference,root'"],
      [["jobs", "ls", "--limit", "0"], "--limit: expected a positive integer, got '0'"],
      [["jobs", "ls", "--status", "finished"], "--status: expected one of queued, running, done, error, cancelled, got 'finished'"],
      [["usage", "--from", "2026-02-30"], "--from: expected a day as YYYY-MM-DD, got '2026-02-30'"],
      [["usage", "--from", "2026-12-06", "--to", "2026-12-01"], "--from 2026-12-06 is after --to 2026-12-01"],
      [["chat", "-m", "rbee-tiny", "--max-tokens", "1e3", "Hello"], "--max-tokens: expected a positive integer, got '1e3'"],
    ];
    for (const [args, message] of refusals) {
      const result = await rbee(args);
      expect(result.exitCode, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toContain(message);
    }
    expect(queen.requests).toEqual([]);
  });
});
