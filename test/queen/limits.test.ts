import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../queen/config.js";
import { call, errorOf } from "./admin-api.js";

describe("request limits and CORS", () => {
  it("refuses an admin body over the limit with 413 before parsing it", async () => {
    const response = await call("POST", "/v1/keys", { body: `{"name":"${"x".repeat(DEFAULTS.maxJsonBodyBytes)}","scopes":["admin"]}` });
    expect(response.status).toBe(413);
    expect(await errorOf(response)).toMatchObject({ code: "request_too_large", message: expect.stringContaining("MAX_JSON_BODY_BYTES") });
  });

  it("sends no CORS headers from admin routes, not even to a preflight", async () => {
    const preflight = await call("OPTIONS", "/v1/keys");
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const response = await call("GET", "/v1/keys");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});
