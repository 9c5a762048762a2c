import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hiveSessionStub } from "../../queen/hive-session/stub.js";
import { call, errorOf } from "./admin-api.js";
import { eventually, helloFrame, TEST_DEVICES, TestHive } from "./hive-socket.js";
import { spawnWorker } from "./job-client.js";
import type { HiveToQueenFrame } from "../../shared/protocol/hive-frames.js";
import { LAST_WRITE_KEY, PENDING_KEY } from "../../queen/hive-session/hive-record-throttle.js";

interface HiveView {
  name: string;
  online: boolean;
  machine: unknown;
  devices: { ram_free_bytes: number; gpus: Array<{ vram_free_bytes: number | null }> } | null;
  first_seen_at: string | null;
  last_seen_at: string | null;
  token_revoked_at: string | null;
}

async function listHives(): Promise<HiveView[]> {
  const response = await call("GET", "/v1/hives");
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: HiveView[] }).data;
}

function connectAttempt(name: string, token: string): Promise<Response> {
  return SELF.fetch(`https://queen/v1/hive/connect?name=${name}`, { headers: { upgrade: "websocket", authorization: `Bearer ${token}` } });
}

describe("hives admin", () => {
  it("lists a registered hive as offline until it connects, then online with when it was seen", async () => {
    await TestHive.register("listed-hive");
    expect((await listHives()).find((hive) => hive.name === "listed-hive")).toMatchObject({
      online: false,
      first_seen_at: null,
      last_seen_at: null,
      token_revoked_at: null,
    });
    const hive = await TestHive.greeted("listed-hive");
    const listed = (await listHives()).find((candidate) => candidate.name === "listed-hive");
    expect(listed).toMatchObject({ online: true, first_seen_at: expect.any(String), last_seen_at: expect.any(String) });
    hive.ws.close(1000, "bye");
    await eventually(async () => (await listHives()).find((candidate) => candidate.name === "listed-hive")?.online === false);
  });

  it("refuses the next connect of a hive whose token was revoked, with 401 hive_token_revoked", async () => {
    const token = await TestHive.register("revoked-hive");
    const revoke = await call("DELETE", "/v1/hives/revoked-hive/token");
    expect(revoke.status).toBe(200);
    const first = (await revoke.json()) as { token_revoked_at: string };
    expect(first).toMatchObject({ name: "revoked-hive", token_revoked_at: expect.any(String), already_revoked: false });
    // Revoking again is no error, keeps the first time (when the token stopped working) and says so.
    const again = await call("DELETE", "/v1/hives/revoked-hive/token");
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ name: "revoked-hive", token_revoked_at: first.token_revoked_at, already_revoked: true });
    const response = await connectAttempt("revoked-hive", token);
    expect(response.status).toBe(401);
    expect(await errorOf(response)).toMatchObject({ code: "hive_token_revoked", message: expect.stringContaining("POST /v1/hives") });
  });

  it("still answers a wrong token to a revoked hive as invalid, revealing nothing", async () => {
    await TestHive.register("revoked-probe-hive");
    await call("DELETE", "/v1/hives/revoked-probe-hive/token");
    const response = await connectAttempt("revoked-probe-hive", "rbee_ht_guess");
    expect(response.status).toBe(401);
    expect((await errorOf(response)).code).toBe("invalid_hive_token");
  });

  it("issues a fresh token to a revoked hive and lets it connect again", async () => {
    const oldToken = await TestHive.register("rotated-hive");
    await call("DELETE", "/v1/hives/rotated-hive/token");
    const newToken = await TestHive.register("rotated-hive");
    expect(newToken).not.toBe(oldToken);
    expect((await listHives()).find((hive) => hive.name === "rotated-hive")?.token_revoked_at).toBeNull();
    expect((await connectAttempt("rotated-hive", oldToken)).status).toBe(401);
    const hive = await TestHive.connect("rotated-hive", newToken);
    hive.send(helloFrame());
    expect((await hive.next("welcome")).hiveName).toBe("rotated-hive");
  });

  it("rotating a token makes the old one stop working", async () => {
    const first = await TestHive.register("rotating-hive");
    const second = await TestHive.register("rotating-hive");
    expect((await connectAttempt("rotating-hive", first)).status).toBe(401);
    const row = await env.DB.prepare("SELECT token_hash FROM hives WHERE name = ?").bind("rotating-hive").first<{ token_hash: string }>();
    expect(row?.token_hash).not.toContain(second);
  });

  it("keeps what a hive's hello says about its machine and lists its devices", async () => {
    await TestHive.greeted("described-hive");
    await eventually(async () => (await listHives()).find((hive) => hive.name === "described-hive")?.machine !== null);
    const described = (await listHives()).find((hive) => hive.name === "described-hive");
    expect(described?.machine).toEqual({ hive_version: "test", os: "linux", arch: "x64", cpu_cores: 2, memory_bytes: 1 });
    expect(described?.devices).toEqual({
      gpus: [{ index: 0, name: "Test GPU", backend: "cuda", vram_total_bytes: 8 * 2 ** 30, vram_free_bytes: 6 * 2 ** 30 }],
      ram_total_bytes: 16 * 2 ** 30,
      ram_free_bytes: 8 * 2 ** 30,
      cpu: { model: "Test CPU", cores: 2 },
      os: "linux",
      os_release: "6.1.0",
      arch: "x64",
      worker_types: ["cpu", "cuda"],
    });
  });

  it("updates a hive's devices from its periodic status refresh, writing D1 at most once per interval", async () => {
    const hive = await TestHive.greeted("refreshing-hive");
    // The hello's devices are in D1: refreshes from now on wait for the interval.
    await eventually(async () => (await listHives()).find((each) => each.name === "refreshing-hive")?.devices?.ram_free_bytes === TEST_DEVICES.ramFreeBytes, 15_000);
    const lessFree = { ...TEST_DEVICES, ramFreeBytes: 1234, gpus: [{ ...TEST_DEVICES.gpus[0], vramFreeBytes: 42 }] } as typeof TEST_DEVICES;
    // The hello was written a moment ago: each refresh waits for the interval, the newest kept.
    // One at a time: frames sent at once may reach the HiveSession out of order in workerd, and
    // a real hive sends one a minute. (Waiting for the session to hold each, not for a fixed time:
    // a loaded machine is slow.)
    const session = hiveSessionStub(env, "refreshing-hive");
    const pendingRamFree = () => runInDurableObject(session, async (_instance, state) => (await state.storage.get<{ devices?: { ramFreeBytes: number } }>(PENDING_KEY))?.devices?.ramFreeBytes);
    for (const ramFreeBytes of [999, 555, 1234]) {
      hive.send({ type: "hive_status", devices: { ...lessFree, ramFreeBytes } });
      await eventually(async () => (await pendingRamFree()) === ramFreeBytes, 15_000);
    }
    expect((await listHives()).find((each) => each.name === "refreshing-hive")?.devices?.ram_free_bytes).toBe(TEST_DEVICES.ramFreeBytes);
    // As if the interval had passed: the alarm writes the newest refresh.
    await runInDurableObject(session, (_instance, state) => state.storage.put(LAST_WRITE_KEY, 0));
    await runDurableObjectAlarm(session);
    await eventually(async () => (await listHives()).find((each) => each.name === "refreshing-hive")?.devices?.ram_free_bytes === 1234, 15_000);
    const refreshed = (await listHives()).find((each) => each.name === "refreshing-hive");
    expect(refreshed?.devices?.gpus[0]?.vram_free_bytes).toBe(42);
    expect(refreshed?.machine).toMatchObject({ hive_version: "test", cpu_cores: 2 });
  }, 40_000);

  it("keeps a status refresh sent right after the welcome over the hello's older devices", async () => {
    const hive = await TestHive.greeted("prompt-status-hive");
    hive.send({ type: "hive_status", devices: { ...TEST_DEVICES, ramFreeBytes: 777 } });
    const session = hiveSessionStub(env, "prompt-status-hive");
    const ramFree = async () => (await listHives()).find((each) => each.name === "prompt-status-hive")?.devices?.ram_free_bytes;
    // D1 gets the hello's devices or, if the refresh was kept before the first write, the refresh's;
    // once the interval has passed it must hold the refresh's, the newest.
    await eventually(async () => (await ramFree()) !== undefined, 15_000);
    await runInDurableObject(session, (_instance, state) => state.storage.put(LAST_WRITE_KEY, 0));
    await runDurableObjectAlarm(session);
    await eventually(async () => (await ramFree()) === 777, 15_000);
  }, 40_000);

  it("refuses a status refresh whose devices are malformed, and keeps the last good ones", async () => {
    const hive = await TestHive.greeted("garbled-status-hive");
    await eventually(async () => (await listHives()).find((each) => each.name === "garbled-status-hive")?.devices !== null);
    hive.send({ type: "hive_status", devices: { ...TEST_DEVICES, gpus: "many" } } as unknown as HiveToQueenFrame);
    expect((await hive.next("error")).code).toBe("invalid_frame");
    expect((await listHives()).find((each) => each.name === "garbled-status-hive")?.devices?.gpus).toHaveLength(1);
  });

  it("cuts off a connected hive the moment its token is revoked, with close code 4003", async () => {
    const hive = await TestHive.greeted("cut-off-hive");
    await call("DELETE", "/v1/hives/cut-off-hive/token");
    await eventually(async () => hive.closed !== undefined);
    expect(hive.closed?.code).toBe(4003);
    await eventually(async () => (await listHives()).find((candidate) => candidate.name === "cut-off-hive")?.online === false);
  });

  it("lists the models a hive has served, and which it serves now", async () => {
    const hive = await TestHive.greeted("modelled-hive");
    const modelled1Id = await spawnWorker(hive, "modelled-model");
    hive.heartbeat(modelled1Id, "modelled-model");
    await eventually(async () => {
      const response = await call("GET", "/v1/hives/modelled-hive/models");
      const body = (await response.json()) as { data: Array<{ id: string; serving: boolean }> };
      return body.data.some((model) => model.id === "modelled-model" && model.serving);
    });
    hive.ws.close(1000, "bye");
    await eventually(async () => {
      const response = await call("GET", "/v1/hives/modelled-hive/models");
      const body = (await response.json()) as { data: Array<{ id: string; serving: boolean; first_seen_at: string }> };
      return body.data.some((model) => model.id === "modelled-model" && !model.serving && model.first_seen_at.length > 0);
    });
    const unknown = await call("GET", "/v1/hives/nobody-here/models");
    expect(unknown.status).toBe(404);
  });

  it("answers revoking an unknown hive with 404 and a bad name with 400 naming it", async () => {
    const unknown = await call("DELETE", "/v1/hives/nobody-here/token");
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe("hive_not_found");
    const bad = await call("DELETE", "/v1/hives/..%2Fetc/token");
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatchObject({ code: "invalid_parameter", param: "name" });
  });

  it("names the field when a hive registration has the wrong type", async () => {
    const response = await call("POST", "/v1/hives", { body: { name: 7 } });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).param).toBe("name");
  });
});
