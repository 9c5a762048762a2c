// Two rbee-hive processes under one name (two machines given the same name and token): the queen
// keeps the connection it has while that one is alive and refuses the other 409, where the two
// used to replace each other for ever, each one's hello dropping the other's workers. A process
// reconnecting (its last connection left half-open) still replaces its own connection, and once
// the first has gone silent the second is let in.
import { describe, expect, it } from "vitest";
import { call, errorOf } from "./admin-api.js";
import { eventually, helloFrame, TestHive } from "./hive-socket.js";
import { spawnWorker } from "./job-client.js";

function chat(model: string): Promise<Response> {
  return call("POST", "/v1/chat/completions", { body: { model, messages: [{ role: "user", content: "hi" }] } });
}

describe("two hive processes under one name", () => {
  it("keeps the live connection and its workers, refusing the other process 409 until the first is silent", async () => {
    const token = await TestHive.register("twin-hive");
    const first = await TestHive.connect("twin-hive", token, "instance-first");
    first.send(helloFrame());
    await first.next("welcome");
    const workerId = await spawnWorker(first, "twin-model");
    first.heartbeat(workerId, "twin-model");
    await eventually(async () => ((await (await call("GET", "/v1/models/twin-model")).json()) as { state?: string }).state === "loaded");

    const refused = await TestHive.upgrade("twin-hive", token, "instance-second");
    expect(refused.status).toBe(409);
    expect(refused.webSocket).toBeNull();
    expect(await errorOf(refused)).toMatchObject({ code: "hive_already_connected", message: expect.stringContaining("Hive 'twin-hive' is already connected") });

    // The first hive and its worker serve on.
    const answer = chat("twin-model");
    const request = await first.next("request");
    first.respond(request.requestId, 200, "{}");
    expect((await answer).status).toBe(200);
    expect(first.closed).toBeUndefined();

    // The same process again (its last connection half-open): it replaces its own.
    const again = await TestHive.connect("twin-hive", token, "instance-first");
    await eventually(async () => first.closed?.code === 4000);
    again.send(helloFrame([], undefined, [workerId]));
    await again.next("welcome");

    // Silent past the heartbeat timeout (the tests' interval is 200 ms): the other process is let in.
    again.stopPinging();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const second = await TestHive.connect("twin-hive", token, "instance-second");
    second.send(helloFrame());
    await second.next("welcome");
  });

  it("lets a hive that sends no instance id replace the connection, as older hives do", async () => {
    const token = await TestHive.register("old-twin");
    const first = await TestHive.connect("old-twin", token, "instance-first");
    first.send(helloFrame());
    await first.next("welcome");
    await TestHive.connect("old-twin", token);
    await eventually(async () => first.closed?.code === 4000);
  });
});
