// `model@hive` through the queen: placed on that hive's worker; refused 404 when no hive of that
// name is registered (it will never come: clients must not retry), and 503 with Retry-After when
// one is registered but not connected now.
import { describe, expect, it } from "vitest";
import { call, errorOf } from "./admin-api.js";
import { hiveServing } from "./job-client.js";

function chat(model: string): Promise<Response> {
  return call("POST", "/v1/chat/completions", { body: { model, messages: [{ role: "user", content: "hi" }] } });
}

describe("model@hive", () => {
  it("places on the named hive, and tells an unknown hive from one that is away", async () => {
    const hive = await hiveServing("pin-hive", "pin-model");
    const answer = chat("pin-model@pin-hive");
    const request = await hive.next("request");
    hive.respond(request.requestId, 200, "{}");
    expect((await answer).status).toBe(200);

    const unknown = await chat("pin-model@no-such-hive");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("retry-after")).toBeNull();
    expect(await errorOf(unknown)).toMatchObject({ code: "hive_not_found", param: "model", message: expect.stringContaining("'no-such-hive'") });

    expect((await call("POST", "/v1/hives", { body: { name: "pin-away" } })).status).toBe(201);
    const away = await chat("pin-model@pin-away");
    expect(away.status).toBe(503);
    expect(away.headers.get("retry-after")).not.toBeNull();
    expect(await errorOf(away)).toMatchObject({ code: "hive_not_connected", message: expect.stringContaining("'pin-away'") });
  });
});
