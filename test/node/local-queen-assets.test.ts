// The local queen serves wrangler.toml's [assets] (the dashboard) from a Worker beside the queen
// (scripts/local-cloud/queen-assets.ts), as Cloudflare serves assets before the Worker runs: the
// asset paths answer with the files and their _headers, everything else reaches the queen itself.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalQueen, startLocalQueen } from "../../scripts/local-cloud/queen.js";

describe("the local queen's static assets", () => {
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
});
