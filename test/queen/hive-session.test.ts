import { SELF } from "cloudflare:test";
import { describe, expect, it, onTestFinished } from "vitest";
import { auth, contentChunk, eventually, heartbeatOf, helloFrame, listModelIds, modelState, schedulingOf, TestHive } from "./hive-socket.js";
import { spawnWorker } from "./job-client.js";
import { OLDEST_HIVE_PROTOCOL, PROTOCOL_VERSION } from "../../shared/protocol/hive-frames.js";
import { captureQueenLog } from "./queen-log.js";

function chat(model: string, stream = false): Promise<Response> {
  return SELF.fetch("https://queen/v1/chat/completions", {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "hi" }] }),
  });
}

describe("hive connection", () => {
  it("refuses a hive with a wrong token", async () => {
    await TestHive.register("wrong-token-hive");
    const response = await SELF.fetch("https://queen/v1/hive/connect?name=wrong-token-hive", {
      headers: { upgrade: "websocket", authorization: "Bearer rbee_ht_wrong" },
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_hive_token");
  });

  it("refuses an unknown hive the same way", async () => {
    const response = await SELF.fetch("https://queen/v1/hive/connect?name=nobody", {
      headers: { upgrade: "websocket", authorization: "Bearer rbee_ht_x" },
    });
    expect(response.status).toBe(401);
  });

  it("refuses a plain GET without an upgrade", async () => {
    const response = await SELF.fetch("https://queen/v1/hive/connect?name=x");
    expect(response.status).toBe(426);
  });

  it("welcomes a hello with the heartbeat interval", async () => {
    const hive = await TestHive.connect("hello-hive", await TestHive.register("hello-hive"));
    hive.send(helloFrame());
    expect(await hive.next("welcome")).toEqual({ type: "welcome", protocol: PROTOCOL_VERSION, hiveName: "hello-hive", heartbeatIntervalMs: 200 });
  });

  it("closes a hive that speaks a protocol version it does not, naming both", async () => {
    for (const [name, protocol] of [["future-hive", PROTOCOL_VERSION + 1], ["ancient-hive", OLDEST_HIVE_PROTOCOL - 1]] as const) {
      const hive = await TestHive.connect(name, await TestHive.register(name));
      hive.send(helloFrame([], protocol));
      const refused = await hive.next("error");
      expect(refused.code).toBe("protocol_mismatch");
      expect(refused.message).toContain(`hive speaks protocol ${protocol}, this queen speaks ${OLDEST_HIVE_PROTOCOL} to ${PROTOCOL_VERSION}`);
      await eventually(async () => hive.closed !== undefined);
      expect(hive.closed?.code).toBe(4001);
    }
  });

  it("welcomes a hive of the previous protocol, which sends no batches", async () => {
    const hive = await TestHive.connect("previous-hive", await TestHive.register("previous-hive"));
    hive.send(helloFrame([], OLDEST_HIVE_PROTOCOL));
    expect(await hive.next("welcome")).toMatchObject({ hiveName: "previous-hive" });
  });

  it("answers malformed and invalid frames with an error frame and keeps the socket", async () => {
    const hive = await TestHive.greeted("noisy-hive");
    hive.sendRaw("{not json");
    expect((await hive.next("error")).code).toBe("invalid_json");
    hive.send({ type: "worker_heartbeats", heartbeats: [{ workerId: "../../etc", model: "m" }] });
    const invalid = await hive.next("error");
    expect(invalid.code).toBe("invalid_frame");
    expect(invalid.message).toContain("heartbeats[0].workerId");
    hive.send({ type: "launch_missiles" });
    expect((await hive.next("error")).code).toBe("invalid_frame");
    // Still connected and useful afterwards.
    const noisy1Id = await spawnWorker(hive, "noisy-model");
    hive.heartbeat(noisy1Id, "noisy-model");
    await eventually(async () => (await listModelIds()).includes("noisy-model"));
  });

  it("requires a hello before anything else", async () => {
    const hive = await TestHive.connect("rude-hive", await TestHive.register("rude-hive"));
    hive.heartbeat("wrk_rude1", "rude-model");
    expect((await hive.next("error")).code).toBe("hello_required");
    expect(await listModelIds()).not.toContain("rude-model");
  });
});

describe("registry through heartbeats", () => {
  it("lists a model as loading while its worker loads, and as loaded once it heartbeats ready", async () => {
    const hive = await TestHive.greeted("hb-hive");
    const hb1Id = await spawnWorker(hive, "hb-model");
    hive.heartbeat(hb1Id, "hb-model", "loading");
    await eventually(async () => (await modelState("hb-model")) === "loading");
    hive.heartbeat(hb1Id, "hb-model", "ready");
    await eventually(async () => (await modelState("hb-model")) === "loaded");
  });

  it("drops a worker whose heartbeats stop and then says no worker is available", async () => {
    const hive = await TestHive.greeted("quiet-hive");
    const quiet1Id = await spawnWorker(hive, "quiet-model");
    hive.heartbeat(quiet1Id, "quiet-model");
    await eventually(async () => (await listModelIds()).includes("quiet-model"));
    // 3 × 200 ms without a heartbeat: the registry's alarm removes it.
    await eventually(async () => !(await listModelIds()).includes("quiet-model"), 3000);
    const response = await chat("quiet-model");
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).not.toBeNull();
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("no_worker_available");
  });

  it("keeps a worker whose heartbeats wait behind its hive's answer on a congested uplink, and tells that hive it is heard", async () => {
    const hive = await TestHive.greeted("congested-hive");
    const workerId = await spawnWorker(hive, "congested-model");
    hive.heartbeat(workerId, "congested-model");
    await eventually(async () => (await listModelIds()).includes("congested-model"));
    const answer = chat("congested-model", true);
    const { requestId } = await hive.next("request");
    // A slow uplink: the answer's frames keep coming, while the hive's pings and its worker's
    // heartbeats wait behind them, for eight heartbeat intervals (three make a worker silent).
    hive.heartbeat(workerId, "congested-model", "busy");
    hive.stopPinging();
    const pongsBefore = hive.pongs;
    hive.send({ type: "response_head", requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    for (let seq = 0; seq < 16; seq += 1) {
      hive.send({ type: "response_chunk", requestId, seq, data: `data: ${contentChunk(`piece ${seq} `)}\n\n` });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await listModelIds(), "the worker is not taken for silent").toContain("congested-model");
    expect(hive.pongs, "unasked pongs: the hive hears the queen while its own pings wait").toBeGreaterThan(pongsBefore);
    hive.send({ type: "response_chunk", requestId, seq: 16, data: "data: [DONE]\n\n" });
    hive.send({ type: "response_end", requestId, chunks: 17 });
    const text = await (await answer).text();
    expect(text).toContain("piece 15 ");
    expect(text).not.toContain("error");
  });

  it("drops every worker of a hive whose socket closes", async () => {
    const hive = await TestHive.greeted("closing-hive");
    const close1Id = await spawnWorker(hive, "closing-model");
    hive.heartbeat(close1Id, "closing-model");
    const close2Id = await spawnWorker(hive, "closing-model");
    hive.heartbeat(close2Id, "closing-model");
    await eventually(async () => (await listModelIds()).includes("closing-model"));
    hive.ws.close(1000, "bye");
    await eventually(async () => !(await listModelIds()).includes("closing-model"), 1000);
  });

  it("drops a worker its hive says exited, says so when none is left, and takes it back if it beats again", async () => {
    const hive = await TestHive.greeted("exit-hive");
    const exitedId = await spawnWorker(hive, "exit-model");
    // Beating, so that only the exit drops it (three silent intervals are 600 ms here).
    const beating = setInterval(() => hive.heartbeat(exitedId, "exit-model"), 100);
    onTestFinished(() => clearInterval(beating));
    await eventually(async () => (await listModelIds()).includes("exit-model"));

    // Another hive cannot end it: the exit of a worker not issued to it is ignored.
    const other = await TestHive.greeted("exit-other-hive");
    other.send({ type: "worker_exited", workerId: exitedId, detail: "not mine" });
    other.send({ type: "no_such_frame" }); // answered after the frame before it was handled
    await other.next("error");
    expect(await listModelIds()).toContain("exit-model");

    clearInterval(beating);
    hive.send({ type: "worker_exited", workerId: exitedId, detail: "worker exited (SIGKILL): no output" });
    await eventually(async () => !(await listModelIds()).includes("exit-model"));
    // Dropped for its exit, not its silence: the refusal says which.
    const response = await chat("exit-model");
    expect(response.status).toBe(503);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("no_worker_available");
    expect(error.message).toContain("its last worker exited at");

    // Still this hive's: a report that was wrong costs the worker no more than its next heartbeat.
    hive.heartbeat(exitedId, "exit-model");
    await eventually(async () => (await listModelIds()).includes("exit-model"));
  });

  it("says, of the workers a returning hive no longer lists, which had ended while it was here and which stopped while it was away", async () => {
    const lines = captureQueenLog();
    const { hive, token } = await TestHive.greetedWithToken("away-hive");
    const endedId = await spawnWorker(hive, "away-model");
    const stoppedId = await spawnWorker(hive, "away-model");
    hive.heartbeat(endedId, "away-model");
    hive.heartbeat(stoppedId, "away-model");
    // Both heard, and the one exit handled, before the socket drops: under load the model is
    // listed after the first heartbeat, and an exit handled after the drop finds no live worker.
    await eventually(async () => (await schedulingOf(endedId)) !== undefined && (await schedulingOf(stoppedId)) !== undefined);
    hive.send({ type: "worker_exited", workerId: endedId, detail: "worker exited (SIGKILL): no output" });
    await eventually(async () => (await schedulingOf(endedId)) === undefined);
    hive.ws.close(1011, "network trouble");
    await eventually(async () => !(await listModelIds()).includes("away-model"));

    const back = await TestHive.connect("away-hive", token);
    back.send(helloFrame());
    await back.next("welcome");
    expect(lines).toContain(`hive away-hive: worker ${endedId} is no longer among its workers (it ended or fell silent earlier; its id is forgotten)`);
    expect(lines).toContain(`hive away-hive: worker ${stoppedId} is no longer among its workers (it stopped while the hive was away; dropped)`);
  });

  it("refuses a heartbeat for another hive's worker", async () => {
    const owner = await TestHive.greeted("owner-hive");
    const owned1Id = await spawnWorker(owner, "owned-model");
    owner.heartbeat(owned1Id, "owned-model");
    await eventually(async () => (await listModelIds()).includes("owned-model"));
    const thief = await TestHive.greeted("thief-hive");
    thief.heartbeat(owned1Id, "stolen-model");
    expect((await thief.next("error")).code).toBe("worker_not_issued");
    expect(await listModelIds()).not.toContain("stolen-model");
  });
});

describe("request relay", () => {
  it("relays a request to the worker's hive and streams the answer back in order", async () => {
    const hive = await TestHive.greeted("relay-hive");
    const relay1Id = await spawnWorker(hive, "relay-model");
    hive.heartbeat(relay1Id, "relay-model");
    await eventually(async () => (await listModelIds()).includes("relay-model"));

    const responsePromise = chat("relay-model", true);
    const request = await hive.next("request");
    expect(request).toMatchObject({ workerId: relay1Id, port: 40001, path: "/v1/chat/completions" });
    expect(JSON.parse(request.body)).toMatchObject({ model: "relay-model", stream: true });

    hive.send({ type: "response_head", requestId: request.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    const events = [...Array.from({ length: 20 }, (_, i) => `data: ${contentChunk(String(i))}\n\n`), "data: [DONE]\n\n"];
    events.forEach((data, seq) => hive.send({ type: "response_chunk", requestId: request.requestId, seq, data }));
    hive.send({ type: "response_end", requestId: request.requestId, chunks: events.length });

    const response = await responsePromise;
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(await response.text()).toBe(events.join(""));
  });

  it("goes on from another worker as soon as the one streaming an answer is dropped for silence, and tells the hive to stop it", async () => {
    const hive = await TestHive.greeted("hung-worker-hive");
    const hung = await spawnWorker(hive, "hung-model", 40001);
    hive.heartbeat(hung, "hung-model"); // and never again: the worker hangs mid-answer
    await eventually(async () => (await listModelIds()).includes("hung-model"));
    const responsePromise = chat("hung-model", true);
    // The client reads its stream as it comes: the queen reads nothing of an answer ahead of its client.
    const textPromise = responsePromise.then((response) => response.text());
    const first = await hive.next("request");
    expect(first.workerId).toBe(hung);
    hive.send({ type: "response_head", requestId: first.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    hive.send({ type: "response_chunk", requestId: first.requestId, seq: 0, data: `data: ${contentChunk("Hel")}\n\n` });
    const healthy = await spawnWorker(hive, "hung-model", 40002);
    const beating = setInterval(() => hive.heartbeat(healthy, "hung-model"), 100);
    try {
      // Three missed 200 ms intervals, not the minute a stalled stream is given.
      expect((await hive.next("cancel", 4000)).requestId).toBe(first.requestId);
      const continued = await hive.next("request", 4000);
      expect(continued.workerId).toBe(healthy);
      expect(JSON.parse(continued.body).messages.at(-1)).toEqual({ role: "assistant", content: "Hel" });
      const rest = [`data: ${contentChunk("lo")}\n\n`, "data: [DONE]\n\n"];
      hive.send({ type: "response_head", requestId: continued.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
      rest.forEach((data, seq) => hive.send({ type: "response_chunk", requestId: continued.requestId, seq, data }));
      hive.send({ type: "response_end", requestId: continued.requestId, chunks: rest.length });
      const text = await textPromise;
      expect(text).toContain('"content":"Hel"');
      expect(text).toContain('"content":"lo"');
      expect(text).not.toContain("error");
      expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    } finally {
      clearInterval(beating);
    }
  });

  it("handles a batch of frames in order, as if each had come alone", async () => {
    const hive = await TestHive.greeted("batch-hive");
    const workerId = await spawnWorker(hive, "batch-model");
    // A heartbeat and a whole answer's frames, each kind in a batch as the hive sends them.
    hive.send({ type: "batch", frames: [{ type: "worker_heartbeats", heartbeats: [heartbeatOf(workerId, "batch-model")] }] });
    await eventually(async () => (await listModelIds()).includes("batch-model"));

    const responsePromise = chat("batch-model", true);
    const request = await hive.next("request");
    const events = [...Array.from({ length: 5 }, (_, i) => `data: ${contentChunk(String(i))}\n\n`), "data: [DONE]\n\n"];
    hive.send({
      type: "batch",
      frames: [
        { type: "response_head", requestId: request.requestId, status: 200, headers: { "content-type": "text/event-stream" } },
        ...events.map((data, seq) => ({ type: "response_chunk", requestId: request.requestId, seq, data })),
        { type: "response_end", requestId: request.requestId, chunks: events.length },
      ],
    });
    const response = await responsePromise;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(events.join(""));
  });

  it("refuses a batch holding a hello, a ping or another batch, naming the frame", async () => {
    const hive = await TestHive.greeted("bad-batch-hive");
    for (const inner of [helloFrame(), { type: "ping" }, { type: "batch", frames: [{ type: "ping" }] }]) {
      hive.send({ type: "batch", frames: [inner] });
      const refused = await hive.next("error");
      expect(refused.code).toBe("invalid_frame");
      expect(refused.message).toContain("frames[0].type");
    }
    hive.send({ type: "batch", frames: [] });
    expect((await hive.next("error")).message).toContain("frames");
  });

  it("relays completions and embeddings to the worker's matching path", async () => {
    const hive = await TestHive.greeted("paths-hive");
    const paths1Id = await spawnWorker(hive, "paths-model");
    hive.heartbeat(paths1Id, "paths-model");
    await eventually(async () => (await listModelIds()).includes("paths-model"));
    const model = await SELF.fetch("https://queen/v1/models/paths-model", { headers: auth });
    expect(await model.json()).toMatchObject({ id: "paths-model", object: "model", owned_by: "rbee" });

    // A completion's prompt may be reused by the worker for its key only (shared/openai/cache-scope.ts); an embedding's is not kept.
    const scope = { rbee_cache_scope: expect.stringMatching(/^[0-9a-f]{16}$/) };
    for (const [path, body, relayed] of [
      ["/v1/completions", { model: "paths-model", prompt: "Once" }, { model: "paths-model", prompt: "Once", ...scope }],
      ["/v1/embeddings", { model: "paths-model", input: ["a", "b"] }, { model: "paths-model", input: ["a", "b"] }],
    ] as const) {
      const responsePromise = SELF.fetch(`https://queen${path}`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const request = await hive.next("request");
      expect(request.path).toBe(path);
      expect(JSON.parse(request.body)).toEqual(relayed);
      hive.send({ type: "response_head", requestId: request.requestId, status: 200, headers: { "content-type": "application/json" } });
      hive.send({ type: "response_chunk", requestId: request.requestId, seq: 0, data: '{"ok":true}' });
      hive.send({ type: "response_end", requestId: request.requestId, chunks: 1 });
      expect(await (await responsePromise).json()).toEqual({ ok: true });
    }
  });

  it("refuses response frames for a request the hive was never sent, leaving other requests alone", async () => {
    const victim = await TestHive.greeted("victim-hive");
    const victim1Id = await spawnWorker(victim, "victim-model");
    victim.heartbeat(victim1Id, "victim-model");
    await eventually(async () => (await listModelIds()).includes("victim-model"));
    const responsePromise = chat("victim-model");
    const request = await victim.next("request");

    const intruder = await TestHive.greeted("intruder-hive");
    intruder.send({ type: "response_head", requestId: request.requestId, status: 200, headers: {} });
    intruder.send({ type: "response_chunk", requestId: request.requestId, seq: 0, data: "hijacked" });
    expect((await intruder.next("error")).code).toBe("request_not_yours");

    victim.send({ type: "response_head", requestId: request.requestId, status: 200, headers: { "content-type": "application/json" } });
    victim.send({ type: "response_chunk", requestId: request.requestId, seq: 0, data: '{"from":"victim"}' });
    victim.send({ type: "response_end", requestId: request.requestId, chunks: 1 });
    expect(await (await responsePromise).json()).toEqual({ from: "victim" });
  });

  it("turns a worker the hive cannot reach into a 502 with the hive's reason", async () => {
    const hive = await TestHive.greeted("unreachable-hive");
    const gone1Id = await spawnWorker(hive, "gone-model");
    hive.heartbeat(gone1Id, "gone-model");
    await eventually(async () => (await listModelIds()).includes("gone-model"));
    const responsePromise = chat("gone-model");
    const request = await hive.next("request");
    hive.send({
      type: "response_end",
      requestId: request.requestId,
      chunks: 0,
      error: { code: "worker_unreachable", message: "worker on port 40001 is unreachable: connect ECONNREFUSED" },
    });
    const response = await responsePromise;
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: "worker_unreachable", message: expect.stringContaining("ECONNREFUSED") } });
  });

  it("retries a request its hive dropped before answering on the same worker, once the hive is back with it", async () => {
    const { hive, token } = await TestHive.greetedWithToken("blip-hive");
    const workerId = await spawnWorker(hive, "blip-model");
    hive.heartbeat(workerId, "blip-model");
    await eventually(async () => (await listModelIds()).includes("blip-model"));
    const responsePromise = chat("blip-model");
    await hive.next("request");
    hive.ws.close(1001, "going away");
    // A crashed hive, started again: its worker lived on and beats through it.
    const back = await TestHive.connect("blip-hive", token);
    back.send(helloFrame([], undefined, [workerId]));
    await back.next("welcome");
    back.heartbeat(workerId, "blip-model");
    const retried = await back.next("request");
    expect(retried.workerId).toBe(workerId);
    back.respond(retried.requestId, 200, JSON.stringify({ ok: true }));
    const response = await responsePromise;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it("fails a request whose hive disconnected and does not come back, instead of hanging", async () => {
    const hive = await TestHive.greeted("vanishing-hive");
    const vanish1Id = await spawnWorker(hive, "vanish-model");
    hive.heartbeat(vanish1Id, "vanish-model");
    await eventually(async () => (await listModelIds()).includes("vanish-model"));
    const responsePromise = chat("vanish-model");
    await hive.next("request");
    hive.ws.close(1001, "going away");
    const response = await responsePromise;
    // The retry may reach the HiveSession before the Registry has heard the hive went (offline then).
    const { code } = ((await response.json()) as { error: { code: string } }).error;
    expect([
      [502, "hive_disconnected"],
      [503, "hive_offline"],
    ]).toContainEqual([response.status, code]);
  }, 20_000);

  it("puts chunks that arrive out of order back in order and waits for missing ones", async () => {
    const hive = await TestHive.greeted("shuffle-hive");
    const shuffle1Id = await spawnWorker(hive, "shuffle-model");
    hive.heartbeat(shuffle1Id, "shuffle-model");
    await eventually(async () => (await listModelIds()).includes("shuffle-model"));
    const responsePromise = chat("shuffle-model");
    const request = await hive.next("request");
    const { requestId } = request;
    hive.send({ type: "response_head", requestId, status: 200, headers: { "content-type": "application/json" } });
    hive.send({ type: "response_chunk", requestId, seq: 2, data: "c" });
    hive.send({ type: "response_end", requestId, chunks: 4 });
    hive.send({ type: "response_chunk", requestId, seq: 0, data: "a" });
    hive.send({ type: "response_chunk", requestId, seq: 3, data: "d" });
    hive.send({ type: "response_chunk", requestId, seq: 1, data: "b" });
    expect(await (await responsePromise).text()).toBe("abcd");
  });

  it("tells the hive to cancel when the client stops reading", async () => {
    const hive = await TestHive.greeted("cancel-hive");
    const cancel1Id = await spawnWorker(hive, "cancel-model");
    hive.heartbeat(cancel1Id, "cancel-model");
    await eventually(async () => (await listModelIds()).includes("cancel-model"));
    const responsePromise = chat("cancel-model", true);
    const request = await hive.next("request");
    hive.send({ type: "response_head", requestId: request.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    hive.send({ type: "response_chunk", requestId: request.requestId, seq: 0, data: `data: ${contentChunk("first")}\n\n` });
    const reader = (await responsePromise).body?.getReader();
    await reader?.read();
    await reader?.cancel();
    expect((await hive.next("cancel")).requestId).toBe(request.requestId);
    // …and gives the worker's slot back, without passing the worker over.
    await eventually(async () => (await schedulingOf(cancel1Id))?.leases === 0);
    expect(await schedulingOf(cancel1Id)).toEqual({ leases: 0, cooling: false });
  });

  it("ends a stream cut mid-way with an SSE error event", async () => {
    const hive = await TestHive.greeted("cut-hive");
    const cut1Id = await spawnWorker(hive, "cut-model");
    hive.heartbeat(cut1Id, "cut-model");
    await eventually(async () => (await listModelIds()).includes("cut-model"));
    const responsePromise = chat("cut-model", true);
    const request = await hive.next("request");
    hive.send({ type: "response_head", requestId: request.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    const first = `data: ${contentChunk("first")}\n\n`;
    hive.send({ type: "response_chunk", requestId: request.requestId, seq: 0, data: first });
    const response = await responsePromise;
    hive.send({ type: "response_end", requestId: request.requestId, chunks: 1, error: { code: "worker_disconnected", message: "worker died" } });
    // No other worker serves the model, so nothing can continue the answer: the text so far, then
    // an error event (what OpenAI clients throw on), never a silent end.
    const text = await response.text();
    expect(text.startsWith(first)).toBe(true);
    expect(text).toContain('"code":"worker_lost"');
    expect(text).not.toContain("[DONE]");
  });
});
