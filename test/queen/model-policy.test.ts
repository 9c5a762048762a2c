// /v1/models/:id/policy: admins set, read and remove a model's policy; a bad field is a 400 that
// names it; an inference key may not touch it; and the scheduler follows a policy at once.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, createKey, errorOf } from "./admin-api.js";
import { API_KEY, eventually, helloFrame, modelState, TestHive } from "./hive-socket.js";

const GIB = 1024 ** 3;

describe("model policy routes", () => {
  it("round-trips a policy: PUT fills the defaults, GET reads it, DELETE removes it", async () => {
    const put = await call("PUT", "/v1/models/policy-model/policy", { body: { max_workers: 2, preferred_hives: ["gaming-pc"], keep_alive_seconds: -1 } });
    expect(put.status).toBe(200);
    const expected = { object: "model_policy", model: "policy-model", min_workers: 0, max_workers: 2, preferred_hives: ["gaming-pc"], worker_types: null, keep_alive_seconds: -1, source: null };
    expect(await put.json()).toMatchObject(expected);
    expect(await (await call("GET", "/v1/models/policy-model/policy")).json()).toMatchObject(expected);

    const replaced = await call("PUT", "/v1/models/policy-model/policy", { body: { worker_types: ["cuda"] } });
    expect(await replaced.json()).toMatchObject({ max_workers: null, preferred_hives: [], worker_types: ["cuda"] });

    expect((await call("DELETE", "/v1/models/policy-model/policy")).status).toBe(200);
    const gone = await call("GET", "/v1/models/policy-model/policy");
    expect(gone.status).toBe(404);
    expect(await errorOf(gone)).toMatchObject({ code: "model_policy_not_found" });
  });

  it("refuses a bad field with a 400 that names it", async () => {
    const cases: Array<[body: unknown, param: string]> = [
      [{ min_workers: -1 }, "min_workers"],
      [{ max_workers: 0 }, "max_workers"],
      [{ min_workers: 3, max_workers: 2 }, "max_workers"],
      [{ preferred_hives: ["bad name!"] }, "preferred_hives[0]"],
      [{ worker_types: ["tpu"] }, "worker_types[0]"],
      [{ worker_types: [] }, "worker_types"],
      [{ keep_alive_seconds: -2 }, "keep_alive_seconds"],
      [{ source: "ftp://x" }, "source"],
      [{ colour: "blue" }, ""],
    ];
    for (const [body, param] of cases) {
      const response = await call("PUT", "/v1/models/policy-model/policy", { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      const error = await errorOf(response);
      expect(error.code).toBe("invalid_request");
      if (param === "") expect(error.message).toContain("colour");
      else expect(error.param, JSON.stringify(body)).toBe(param);
    }
  });

  it("is for admins only, though it lives under /v1/models", async () => {
    const inference = await createKey(["inference"]);
    for (const method of ["GET", "PUT", "DELETE"]) {
      const response = await call(method, "/v1/models/policy-model/policy", { key: inference.key, body: method === "PUT" ? {} : undefined });
      expect(response.status, method).toBe(403);
    }
    expect((await call("GET", "/v1/models", { key: inference.key })).status).toBe(200);
  });
});

describe("a policy the scheduler follows", () => {
  it("worker_types a hive cannot offer refuses the request with words that name the policy", async () => {
    const hive = await TestHive.connect("policy-hive", await TestHive.register("policy-hive"));
    hive.send({ ...helloFrame(), models: [{ source: "file:/models/strict.gguf", name: "strict-model", sizeBytes: GIB, memoryBytes: GIB, vramBytes: GIB }] });
    await hive.next("welcome");
    await eventually(async () => (await modelState("strict-model")) !== undefined);
    expect((await call("PUT", "/v1/models/strict-model/policy", { body: { worker_types: ["metal"] } })).status).toBe(200);

    const response = await SELF.fetch("https://queen/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "strict-model", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(503);
    const error = await errorOf(response);
    expect(error.code).toBe("model_policy_unmet");
    expect(error.message).toContain("the policy for model 'strict-model' allows only metal workers");
    // Nothing changes by retrying it: the SDKs are told not to, where a 503 would have them retry twice.
    expect(response.headers.get("x-should-retry")).toBe("false");
    expect(hive.frames.some((frame) => frame.type === "job_start")).toBe(false);
    hive.ws.close(1000, "bye");
  });
});
