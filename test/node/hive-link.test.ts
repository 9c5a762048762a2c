// The hive link against a real queen in workerd: a hive whose token or name the queen refuses
// stops with exit status 3, saying what is wrong and how to get a token; a queen URL ending in /v1 (the
// OpenAI base URL `npm start` prints) still connects; a hive flooding frames is cut off.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HiveProcess, startHiveProcess } from "../../scripts/local-cloud/hive-process.js";
import { type LocalQueen, startLocalQueen } from "../../scripts/local-cloud/queen.js";
import { QueenClient } from "../../scripts/local-cloud/queen-client.js";
import { CloseCode } from "../../shared/protocol/close-codes.js";
import { logMessageOf } from "../../shared/log/json-log.js";
import { hiveConnectUrl } from "../../shared/protocol/hive-connect.js";
import { PROTOCOL_VERSION } from "../../shared/protocol/hive-frames.js";
import { waitUntil } from "../../shared/wait-until.js";
import { fakeHeartbeat } from "../support/fake-heartbeat.js";

function helloFrame() {
  const devices = { gpus: [], ramTotalBytes: 1, ramFreeBytes: 1, cpu: { model: "test", cores: 1 }, os: "linux", osRelease: "6", arch: "x64", workerTypes: ["cpu"] };
  return { type: "hello", protocol: PROTOCOL_VERSION, hive: { version: "test", os: "linux", arch: "x64", cpuCores: 1, memoryBytes: 1 }, devices, jobs: [], workers: [] };
}

describe("the hive link against a real queen", () => {
  let dir: string;
  let queen: LocalQueen;
  let client: QueenClient;
  const hives: HiveProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rbee-link-"));
    // A frame budget this machine can exceed (its queen handles a few hundred frames a second).
    const vars = { HIVE_FRAME_BURST: "200", HIVE_FRAMES_PER_SECOND: "50" };
    queen = await startLocalQueen({ persistDir: join(dir, "queen"), adminKey: "rbee_sk_link_test", port: 0, heartbeatIntervalMs: 1000, vars });
    client = new QueenClient(queen.url, "rbee_sk_link_test");
  });

  afterAll(async () => {
    await Promise.all(hives.map((hive) => hive.stop()));
    await queen?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  function hive(name: string, token: string, queenUrl = queen.url): { process: HiveProcess; lines: string[] } {
    const lines: string[] = [];
    const process = startHiveProcess({ queenUrl, name, token, cacheDir: join(dir, `cache-${name}`), onLine: (line) => lines.push(logMessageOf(line)) }); // the message of each JSON log line
    hives.push(process);
    return { process, lines };
  }

  it("stops with exit status 3 when the queen refuses its token, saying which hive, why and how to get a token", async () => {
    await client.createHive("refused-hive");
    const refused = hive("refused-hive", "rbee_ht_wrong");
    await waitUntil(() => refused.process.exitCode !== null, 30_000, "the refused hive to exit");
    expect(refused.process.exitCode).toBe(3);
    // What its supervisor (npm start) reads of the refusal: the queen's code and message.
    expect((await refused.process.exited).refused).toBe("invalid_hive_token: Hive 'refused-hive' is unknown or its token is wrong.");
    const log = refused.lines.join("\n");
    expect(log).toContain("queen refused hive 'refused-hive': HTTP 401 invalid_hive_token");
    expect(log).toContain('POST /v1/hives with {"name": "refused-hive"}');
    expect(log).not.toMatch(/reconnecting in/);
  });

  it("stops the same way for a name the queen does not know", async () => {
    const { token } = await client.createHive("known-hive");
    const misnamed = hive("unknown-hive", token);
    await waitUntil(() => misnamed.process.exitCode !== null, 30_000, "the misnamed hive to exit");
    expect(misnamed.process.exitCode).toBe(3);
    expect(misnamed.lines.join("\n")).toContain("Check --name (env RBEE_HIVE_NAME)");
  });

  it("connects with the queen URL that ends in /v1, saying it dropped the /v1", async () => {
    const { token } = await client.createHive("v1-hive");
    const connected = hive("v1-hive", token, `${queen.url}/v1`);
    await connected.process.welcomed;
    expect(connected.lines.join("\n")).toContain(`ends in /v1, the OpenAI base URL; the hive connects to the queen's own base URL, so it uses ${queen.url}`);
  });

  it("cuts off a hive that floods it with frames: an error frame, then close code 4004", async () => {
    const { token } = await client.createHive("flood-hive");
    const ws = new WebSocket(hiveConnectUrl(queen.url, "flood-hive"), { headers: { authorization: `Bearer ${token}` } });
    const errors: string[] = [];
    let pongs = 0;
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; code?: string };
      if (frame.type === "pong") pongs += 1;
      if (frame.type === "error" && frame.code) errors.push(frame.code);
    });
    const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
    await new Promise((resolve) => ws.on("open", resolve));
    ws.send(JSON.stringify(helloFrame()));
    // Pings spelled with a space miss the auto-response, so each one reaches the HiveSession.
    let sent = 0;
    let code: number | undefined;
    void closed.then((value) => (code = value));
    const startedAt = Date.now();
    while (code === undefined && ws.readyState === WebSocket.OPEN && sent < 20_000) {
      for (let i = 0; i < 100; i++) ws.send('{"type": "ping"}');
      sent += 100;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const closeCode = await closed;
    console.log(`flood: sent ${sent} frames in ${Date.now() - startedAt} ms, ${pongs} answered; closed with ${closeCode}, errors ${[...new Set(errors)].join(",")}`);
    expect(closeCode).toBe(CloseCode.rateLimited);
    expect(errors).toContain("rate_limited");
  });

  it("counts a message's frames and heartbeats against the limit, and answers refused ones with a bounded number of errors", async () => {
    const { token } = await client.createHive("many-frames-hive");
    const ws = new WebSocket(hiveConnectUrl(queen.url, "many-frames-hive"), { headers: { authorization: `Bearer ${token}` } });
    const errors: string[] = [];
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; code?: string };
      if (frame.type === "error" && frame.code) errors.push(frame.code);
    });
    const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
    await new Promise((resolve) => ws.on("open", resolve));
    ws.send(JSON.stringify(helloFrame()));
    const heartbeats = (count: number, from: number) => Array.from({ length: count }, (_, index) => fakeHeartbeat({ workerId: `wrk_madeup${from + index}` }));
    // 150 workers the queen never issued, within the burst of 200: each refused, but only a few told.
    ws.send(JSON.stringify({ type: "worker_heartbeats", heartbeats: heartbeats(150, 0) }));
    await waitUntil(() => errors.length > 0, 10_000, "the refusals");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(errors.every((code) => code === "worker_not_issued")).toBe(true);
    expect(errors.length).toBeLessThanOrEqual(10);
    // A batch of 64 such frames is 9,600 heartbeats in one message: past the burst, cut off.
    ws.send(JSON.stringify({ type: "batch", frames: Array.from({ length: 64 }, (_, index) => ({ type: "worker_heartbeats", heartbeats: heartbeats(150, 1000 * (index + 1)) })) }));
    expect(await closed).toBe(CloseCode.rateLimited);
  });
});
