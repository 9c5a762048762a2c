// The worker's heartbeats over a real unix-socket channel: a hive that was down (restarting) hears
// from the worker soon after it listens again, not an interval later, whether the worker's last
// heartbeat failed or the hive's end closed the connection the heartbeats keep; one that is up
// hears a heartbeat per interval and no retries, and so does one that answers with an error. A
// state the hive acts on goes at once; a move between ready and busy waits for the interval.
import http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { waitUntil } from "../shared/wait-until.js";
import type { WorkerHeartbeat, WorkerState } from "../shared/protocol/worker-heartbeat.js";
import { fakeHeartbeat } from "../test/support/fake-heartbeat.js";
import { HeartbeatSender } from "./heartbeat.js";

const HEARTBEAT = fakeHeartbeat({ workerId: "wrk_beat" });
/** Well within the 60 s interval the tests give the worker: only a retry can come this soon. */
const SOON_MS = 10_000;

/** A hive's channel: keeps the states of the heartbeats it is sent. */
async function listenChannel(socketPath: string, status = 200): Promise<{ beats: () => number; states: () => WorkerState[]; close: () => Promise<void> }> {
  const states: WorkerState[] = [];
  const server = http.createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => {
      states.push((JSON.parse(body) as WorkerHeartbeat).state);
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    beats: () => states.length,
    states: () => [...states],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("HeartbeatSender", () => {
  let dir: string;
  let sender: HeartbeatSender | undefined;
  const logs: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "rbee-heartbeat-"));
    logs.length = 0;
  });
  afterEach(async () => {
    sender?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function start(socketPath: string, heartbeatIntervalMs: number, read = () => HEARTBEAT): HeartbeatSender {
    const started = new HeartbeatSender({ hiveChannel: `unix:${socketPath}`, heartbeatIntervalMs, read, log: (line) => logs.push(line) });
    sender = started;
    started.start();
    return started;
  }

  it("reaches a hive that starts listening after it, long before the next interval", async () => {
    const socketPath = join(dir, "hive.sock");
    start(socketPath, 60_000);
    await sleep(700); // a few failed tries while nobody listens
    const channel = await listenChannel(socketPath);
    try {
      await waitUntil(() => channel.beats() === 1, SOON_MS, "the heartbeat to reach the hive that started listening");
      // The outage was logged once, and its end once.
      expect(logs.filter((line) => line.includes("failed"))).toHaveLength(1);
      expect(logs.filter((line) => line.includes("reachable again"))).toHaveLength(1);
      // Reached, it keeps to its interval: no more tries.
      await sleep(1500);
      expect(channel.beats()).toBe(1);
    } finally {
      await channel.close();
    }
  });

  it("beats again soon after the hive that had its heartbeats closes their connection, for the hive that follows it", async () => {
    const socketPath = join(dir, "hive.sock");
    const first = await listenChannel(socketPath);
    start(socketPath, 60_000);
    await waitUntil(() => first.beats() === 1, SOON_MS, "the first heartbeat");
    await first.close(); // the hive stops (its idle connections close with it)
    await sleep(300);
    const second = await listenChannel(socketPath);
    try {
      await waitUntil(() => second.beats() === 1, SOON_MS, "a heartbeat to reach the hive that followed");
      expect(first.beats()).toBe(1);
    } finally {
      await second.close();
    }
  });

  it("says it is an orphan once no hive has answered on its channel for orphanAfterMs, once, and not while a hive answers", async () => {
    const orphaned: number[] = [];
    const beat = (socketPath: string) =>
      new HeartbeatSender({ hiveChannel: `unix:${socketPath}`, heartbeatIntervalMs: 60_000, read: () => HEARTBEAT, log: (line) => logs.push(line), orphanAfterMs: 600, onOrphaned: (ms) => orphaned.push(ms) });
    sender = beat(join(dir, "nobody.sock"));
    sender.start();
    await waitUntil(() => orphaned.length === 1, SOON_MS, "the worker to find itself an orphan");
    expect(orphaned[0]).toBeGreaterThanOrEqual(600);
    await sleep(1000);
    expect(orphaned, "said once").toHaveLength(1);
    sender.stop();

    // A hive that answers, even with a refusal, is there: no orphan however long.
    const socketPath = join(dir, "hive.sock");
    const channel = await listenChannel(socketPath, 503);
    try {
      sender = beat(socketPath);
      sender.start();
      await sleep(1000);
      expect(orphaned).toHaveLength(1);
    } finally {
      await channel.close();
    }
  });

  it("tries a hive that answers with an error again at the next interval, not sooner", async () => {
    const socketPath = join(dir, "hive.sock");
    const channel = await listenChannel(socketPath, 503);
    try {
      start(socketPath, 60_000);
      await sleep(1500);
      expect(channel.beats()).toBe(1);
      expect(logs).toEqual([expect.stringContaining("failed (the hive answered HTTP 503); retrying every 60000 ms")]);
    } finally {
      await channel.close();
    }
  });

  it("sends one heartbeat per interval to a hive that is up", async () => {
    const socketPath = join(dir, "hive.sock");
    const channel = await listenChannel(socketPath);
    try {
      start(socketPath, 400);
      await sleep(1000);
      // At once, then at 400 and 800 ms (a busy machine may fire the second timer late).
      expect(channel.beats()).toBeGreaterThanOrEqual(2);
      expect(channel.beats()).toBeLessThanOrEqual(3);
      expect(logs).toEqual([]);
    } finally {
      await channel.close();
    }
  });

  it("beats at once for a state the hive acts on, and leaves a move between ready and busy to the interval", async () => {
    const socketPath = join(dir, "hive.sock");
    const channel = await listenChannel(socketPath);
    let state: WorkerState = "loading";
    const moveTo = (next: WorkerState) => {
      state = next;
      beating.stateMaybeChanged(next);
    };
    const beating = start(socketPath, 60_000, () => ({ ...HEARTBEAT, state }));
    try {
      await waitUntil(() => channel.beats() === 1, SOON_MS, "the first heartbeat");
      moveTo("ready");
      await waitUntil(() => channel.beats() === 2, SOON_MS, "the ready heartbeat");
      // Requests taking and freeing the only slot.
      for (const next of ["busy", "ready", "busy", "ready", "busy"] as const) moveTo(next);
      await sleep(500);
      expect(channel.states()).toEqual(["loading", "ready"]);
      moveTo("draining");
      await waitUntil(() => channel.beats() === 3, SOON_MS, "the draining heartbeat");
      expect(channel.states()).toEqual(["loading", "ready", "draining"]);
    } finally {
      await channel.close();
    }
  });
});
