// The local queen's port (scripts/local-cloud/queen-entry.ts): wrangler.toml's [assets] (the
// dashboard) come from a Worker beside the queen (queen-assets.ts), as Cloudflare serves assets
// before the Worker runs: the asset paths answer with the files and their _headers, everything
// else reaches the queen itself, with no Miniflare entry Worker between, whose routing headers a
// client could otherwise use. The Cron Trigger's handler runs by hand, as under `wrangler dev`.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalQueen, startLocalQueen } from "../../scripts/local-cloud/queen.js";
import { SCHEDULED_PATH } from "../../scripts/local-cloud/queen-entry.js";

describe("the local queen's port", () => {
  let dir: string;
  let queen: LocalQueen;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rbee-queen-assets-"));
    queen = await startLocalQueen({ persistDir: dir, adminKey: "rbee_sk_assets_test", port: 0 });
  });

  afterAll(async () => {
    await queen?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string) => fetch(`${queen.url}${path}`, { redirect: "manual" });

  it("serves the dashboard's files with their _headers, and redirects its folder to the trailing slash", async () => {
    const page = await get("/dashboard/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(await page.text()).toContain("<!doctype html>");
    const style = await get("/dashboard/style.css");
    expect(style.status).toBe(200);
    expect(style.headers.get("content-type")).toContain("text/css");
    await style.text();
    const folder = await get("/dashboard");
    expect(folder.status).toBe(307);
    expect(folder.headers.get("location")).toBe("/dashboard/");
    expect((await get("/dashboard/missing.js")).status).toBe(404);
  });

  it("leaves every other path to the queen, config files of the assets folder included", async () => {
    expect(await (await get("/health")).json()).toEqual({ status: "ok" });
    for (const path of ["/dashboardx", "/_headers"]) {
      const answer = await get(path);
      expect(answer.status).toBe(404);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }
    // The queen's own /v1/dashboard routes are not assets.
    expect((await get("/v1/dashboard/events")).status).toBe(401);
  });

  it("reaches the queen with no Miniflare entry Worker in front: its route header reroutes nothing", async () => {
    // Through Miniflare's entry this header sent the request to the named Worker instead.
    const answer = await fetch(`${queen.url}/health`, { headers: { "MF-Route-Override": "rbee-queen-assets" } });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ status: "ok" });
  });

  it("runs the scheduled handler (the retention run) by hand", async () => {
    const answer = await get(`${SCHEDULED_PATH}?cron=${encodeURIComponent("17 3 * * *")}`);
    expect(await answer.text()).toBe("ok");
    expect(answer.status).toBe(200);
  });
});
