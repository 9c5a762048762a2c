// The requests behind the client fuzz drill's unexplained answers (seed 80904640, under heavy
// load), replayed against the queen itself inside workerd: it answers each with its 4xx at once.
// The drill met a 500 ("TypeError: Cannot reconstruct a Request with a used body", text/plain,
// from miniflare's entry worker), a 503 ("Your worker restarted mid-request", from wrangler's
// ProxyWorker) and GETs that never got an answer: all of them made by the wrangler dev proxy that
// stood in front of the local queen (README, "Fault drills"), none by the queen.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { auth } from "./hive-socket.js";

/** The status, error code and error param the queen answers `path` with. */
async function answer(method: string, path: string, contentType: string, body?: string): Promise<{ status: number; code: unknown; param?: unknown }> {
  const response = await SELF.fetch(`https://queen${path}`, { method, headers: { ...auth, "content-type": contentType }, body });
  const parsed = (await response.json()) as { error?: { code?: unknown; param?: unknown } };
  return { status: response.status, code: parsed.error?.code, ...(parsed.error?.param ? { param: parsed.error.param } : {}) };
}

describe("requests the client fuzz drill saw go wrong in the dev proxy", () => {
  it("refuses a job whose hive is a number, under a percent-encoded query, with 400 naming the field", async () => {
    const body = JSON.stringify({ operation: "model_list", hive: -393.2288228534162 });
    expect(await answer("POST", "/v1/jobs?%67%4b%39%5b%79%6e=%30%70%45%7d", "application/json", body)).toEqual({ status: 400, code: "invalid_request", param: "hive" });
  });

  it("answers a path ending in invalid UTF-8 (bytes ff fe c3 28) with 404, whatever the body", async () => {
    const body = JSON.stringify({ operation: "model_list", hive: "drill-offline-hive" });
    expect(await answer("POST", "/v1/jobs%FF%FE%C3(", "application/json", body)).toEqual({ status: 404, code: "not_found" });
    expect(await answer("OPTIONS", "/v1/jobs%FF%FE%C3(", "multipart/form-data; boundary=x")).toEqual({ status: 404, code: "not_found" });
  });

  it("answers the GETs that stalled behind the proxy: an unknown job with 404, a hive's workers with a list", async () => {
    expect(await answer("GET", "/v1/jobs/job_x2dggj2ldt8krfr0emnq", "multipart/form-data; boundary=x")).toEqual({ status: 404, code: "job_not_found", param: "id" });
    expect(await answer("GET", "/v1/workers?hive_id=drill-offline-hive", "application/json; charset=latin1")).toEqual({ status: 200, code: undefined });
  });
});
