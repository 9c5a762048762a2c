// The hive link across blips, replacements, revocations and hostile hives: job events replayed
// after a reconnect land once, jobs a returning hive no longer has end, a silent or flooding
// socket is dropped, and a socket opened with a token that stopped being the hive's is closed.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hiveSessionStub } from "../../queen/hive-session/stub.js";
import { sha256Hex } from "../../queen/auth/secrets.js";
import { HIVE_NAME_HEADER, HIVE_TOKEN_HASH_HEADER } from "../../queen/hive-session/hive-session.js";
import { CloseCode } from "../../shared/protocol/close-codes.js";
import { auth, eventually, helloFrame, listModelIds, TestHive } from "./hive-socket.js";
import { getJob, openStream, readEvents, submitJob, spawnWorker } from "./job-client.js";

/** A registered hive with its token, connected and greeted. */
async function greetedWithToken(name: string): Promise<{ hive: TestHive; token: string }> {
  const token = await TestHive.register(name);
  const hive = await TestHive.connect(name, token);
  hive.send(helloFrame());
  await hive.next("welcome");
  return { hive, token };
}

async function reconnect(name: string, token: string, jobs: string[]): Promise<TestHive> {
  const hive = await TestHive.connect(name, token);
  hive.send(helloFrame(jobs));
  await hive.next("welcome");
  return hive;
}

function sendEvent(hive: TestHive, jobId: string, seq: number, event: Record<string, unknown>): void {
  hive.send({ type: "job_event", jobId, seq, event });
}

async function startedJob(hive: TestHive, hiveName: string): Promise<string> {
  const job = await submitJob({ operation: "hive_check", hive: hiveName });
  await hive.next("job_start");
  return job.job_id;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function isOnline(name: string): Promise<boolean> {
  const response = await SELF.fetch("https://queen/v1/hives", { headers: auth });
  return ((await response.json()) as { data: Array<{ name: string; online: boolean }> }).data.some((hive) => hive.name === name && hive.online);
}

describe("job events across a reconnect", () => {
  it("ends a job done when its end was sent while the socket was down, acknowledging what it recorded once", async () => {
    const { hive: first, token } = await greetedWithToken("blip-hive");
    const jobId = await startedJob(first, "blip-hive");
    sendEvent(first, jobId, 0, { type: "narration", action: "probe", message: "looking" });
    expect(await first.next("job_ack")).toEqual({ type: "job_ack", jobId, seq: 0 });
    // Not a clean stop (1000/1001): the queen waits for the hive to come back.
    first.ws.close(3000, "network blip");
    await eventually(async () => !(await isOnline("blip-hive")));
    expect((await getJob(jobId)).body.status).toBe("running");

    const second = await reconnect("blip-hive", token, [jobId]);
    // The replay: event 0 again (its ack could have been lost), then the end kept while down.
    sendEvent(second, jobId, 0, { type: "narration", action: "probe", message: "looking" });
    sendEvent(second, jobId, 1, { type: "done" });
    await eventually(async () => second.frames.some((frame) => frame.type === "job_ack" && frame.seq === 1));
    const events = await readEvents(await openStream(jobId));
    expect(events.map((event) => event.type)).toEqual(["narration", "done"]);
    expect((await getJob(jobId)).body.status).toBe("done");
  });

  it("ends the jobs a returning hive's hello leaves out, and keeps running those it lists", async () => {
    const { hive: first, token } = await greetedWithToken("forgetful-hive");
    const kept = await startedJob(first, "forgetful-hive");
    const lost = await startedJob(first, "forgetful-hive");
    first.ws.close(3000, "network blip");
    await eventually(async () => !(await isOnline("forgetful-hive")));

    const second = await reconnect("forgetful-hive", token, [kept]);
    await eventually(async () => (await getJob(lost)).body.status === "error");
    expect((await getJob(lost)).body.error).toContain("no longer runs this job");
    expect((await getJob(kept)).body.status).toBe("running");
    sendEvent(second, kept, 0, { type: "done" });
    await eventually(async () => (await getJob(kept)).body.status === "done");
  });

  it("tells a hive that comes back with a job the queen no longer tracks to cancel it, and acknowledges its events", async () => {
    const token = await TestHive.register("stale-job-hive");
    const hive = await reconnect("stale-job-hive", token, ["job_stale1"]);
    expect(await hive.next("job_cancel")).toEqual({ type: "job_cancel", jobId: "job_stale1" });
    sendEvent(hive, "job_stale1", 4, { type: "cancelled" });
    expect((await hive.next("error")).code).toBe("job_not_yours");
    expect(await hive.next("job_ack")).toEqual({ type: "job_ack", jobId: "job_stale1", seq: 4 });
  });

  it("keeps a hive's jobs when a new socket replaces the old one before saying hello", async () => {
    const { hive: first, token } = await greetedWithToken("replaced-hive");
    const jobId = await startedJob(first, "replaced-hive");
    const second = await TestHive.connect("replaced-hive", token);
    await eventually(async () => first.closed !== undefined);
    expect(first.closed?.code).toBe(CloseCode.replaced);
    await pause(300); // the old socket's close has been handled
    expect((await getJob(jobId)).body.status).toBe("running");
    second.send(helloFrame([jobId]));
    await second.next("welcome");
    sendEvent(second, jobId, 0, { type: "done" });
    await eventually(async () => (await getJob(jobId)).body.status === "done");
  });
});

describe("hive socket hygiene", () => {
  it("refuses a second hello on the same socket", async () => {
    const hive = await TestHive.greeted("twice-hive");
    hive.send(helloFrame());
    expect((await hive.next("error")).code).toBe("hello_repeated");
    expect(hive.closed).toBeUndefined();
  });

  it("answers pings, and drops a socket gone silent within three heartbeat intervals, with its workers", async () => {
    const hive = await TestHive.greeted("silent-socket-hive");
    await eventually(async () => hive.pongs > 0);
    const silent1Id = await spawnWorker(hive, "silent-socket-model");
    hive.heartbeat(silent1Id, "silent-socket-model");
    await eventually(async () => (await listModelIds()).includes("silent-socket-model"));
    hive.stopPinging();
    // 3 × 200 ms of silence; the close frame reaches this (healthy) client even so.
    await eventually(async () => hive.closed !== undefined, 5000);
    expect(hive.closed?.code).toBe(CloseCode.heartbeatTimeout);
    expect(await isOnline("silent-socket-hive")).toBe(false);
    expect(await listModelIds()).not.toContain("silent-socket-model");
  });

  it("drops a socket that pings but never says hello, within three heartbeat intervals", async () => {
    const token = await TestHive.register("no-hello-hive");
    const hive = await TestHive.connect("no-hello-hive", token);
    await eventually(async () => hive.pongs > 0);
    await eventually(async () => hive.closed !== undefined, 5000);
    expect(hive.closed?.code).toBe(CloseCode.notGreeted);
    expect(hive.closed?.reason).toContain("no hello within");
  });
});

describe("tokens that stop being the hive's", () => {
  it("closes a socket whose token was rotated between the connect check and the upgrade", async () => {
    const oldToken = await TestHive.register("race-hive");
    await TestHive.register("race-hive"); // rotated while the old token's connect was in flight
    const session = hiveSessionStub(env, "race-hive");
    // The upgrade the route would have passed on after checking the old token.
    const response = await session.fetch("https://queen/v1/hive/connect?name=race-hive", {
      headers: { upgrade: "websocket", [HIVE_NAME_HEADER]: "race-hive", [HIVE_TOKEN_HASH_HEADER]: await sha256Hex(oldToken) },
    });
    const ws = response.webSocket;
    if (!ws) throw new Error(`no WebSocket: HTTP ${response.status}`);
    const closed = new Promise<number>((resolve) => ws.addEventListener("close", (event) => resolve(event.code)));
    ws.accept();
    expect(await closed).toBe(CloseCode.tokenRevoked);
  });

  it("on rotation closes the old token's socket and keeps one opened with the new token", async () => {
    const { hive: old } = await greetedWithToken("rotate-live-hive");
    const newToken = await TestHive.register("rotate-live-hive");
    await eventually(async () => old.closed !== undefined);
    expect(old.closed?.code).toBe(CloseCode.tokenRevoked);
    const current = await reconnect("rotate-live-hive", newToken, []);
    const session = hiveSessionStub(env, "rotate-live-hive");
    await session.disconnect("hive token rotated", await sha256Hex(newToken));
    await pause(200);
    expect(current.closed).toBeUndefined();
    expect(await isOnline("rotate-live-hive")).toBe(true);
  });
});
