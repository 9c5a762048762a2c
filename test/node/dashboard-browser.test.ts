// The dashboard in a real browser: Debian's chromium, driven by playwright-core, against a real
// local queen. It signs in (a wrong key first), then a hive connects and a worker starts while the
// page stays open, and both must appear without a reload; one chat request must show in the
// traffic figures. Screenshots (desktop and a 390 px phone) are kept under test-artifacts/.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HiveProcess, startHiveProcess } from "../../scripts/local-cloud/hive-process.js";
import { type LocalQueen, startLocalQueen } from "../../scripts/local-cloud/queen.js";
import { QueenClient } from "../../scripts/local-cloud/queen-client.js";
import { DASHBOARD_PATHS } from "../../shared/dashboard/dashboard-snapshot.js";
import { writeTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import { launchChromium } from "../support/chromium.js";
import { processesMentioning, TINY_MODEL } from "./local-cloud.js";

const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
const ADMIN_KEY = "rbee_sk_dashboard_test_key";
const HIVE = "dash-hive";
/** How long the page may take to show a change: a snapshot goes out every 1.5 s. */
const SHOWN_WITHIN_MS = 20_000;

describe("the dashboard in a browser", () => {
  let dir: string;
  let queen: LocalQueen;
  let client: QueenClient;
  let browser: Browser;
  let page: Page;
  let hive: HiveProcess | undefined;
  const offOrigin: string[] = [];
  let navigations = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rbee-dashboard-"));
    queen = await startLocalQueen({ persistDir: join(dir, "queen"), adminKey: ADMIN_KEY, port: 0 });
    client = new QueenClient(queen.url, ADMIN_KEY);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(`${queen.url}/`) && !url.startsWith("data:")) offOrigin.push(url);
    });
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    });
  });

  afterAll(async () => {
    await browser?.close();
    await hive?.stop();
    // Workers are detached and may outlive their hive: end them here.
    if (dir) for (const pid of await processesMentioning(dir)) process.kill(pid, "SIGKILL");
    await queen?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("shows a hive and a worker that arrive while it is open, live, on desktop and phone", { timeout: 180_000 }, async () => {
    const served = await page.goto(`${queen.url}${DASHBOARD_PATHS.page}`);
    expect(served?.status()).toBe(200);
    expect(served?.headers()["content-security-policy"]).toContain("default-src 'self'");
    await expect.poll(() => page.locator("#sign-in").isVisible()).toBe(true);

    await page.fill("#key", "not-a-key");
    await page.click("#sign-in button[type=submit]");
    await expect.poll(() => page.locator("#sign-in-error").textContent(), { timeout: SHOWN_WITHIN_MS }).toContain("The queen refused this key");
    expect(await page.evaluate("localStorage.length")).toBe(0);

    await page.fill("#key", ADMIN_KEY);
    await page.click("#sign-in button[type=submit]");
    await expect.poll(() => page.locator("#status").textContent(), { timeout: SHOWN_WITHIN_MS }).toMatch(/^live · /);
    expect(await page.locator("#sign-in").isVisible()).toBe(false);
    expect(await page.locator("#hives").textContent()).toContain("No hive registered yet");

    const { token } = await client.createHive(HIVE);
    const hiveLog: string[] = [];
    hive = startHiveProcess({ queenUrl: queen.url, name: HIVE, token, workerThreads: 1, cacheDir: join(dir, "cache"), stopWorkersOnExit: true, onLine: (line) => hiveLog.push(line) });
    await hive.welcomed;
    const hiveCard = page.locator(`[data-hive="${HIVE}"]`);
    await expect.poll(() => hiveCard.textContent(), { timeout: SHOWN_WITHIN_MS }).toContain("online");
    expect(await hiveCard.textContent()).toMatch(/RAM.*used/);

    const modelPath = join(dir, `${TINY_MODEL}.gguf`);
    await writeTinyLlamaGguf(modelPath);
    const worker = await client.spawnWorker({ hive: HIVE, model: TINY_MODEL, source: pathToFileURL(modelPath).href });
    const workerCard = page.locator(`[data-worker="${worker.id}"]`);
    await expect.poll(() => workerCard.textContent(), { timeout: SHOWN_WITHIN_MS }).toContain("ready");
    expect(await workerCard.textContent()).toContain(TINY_MODEL);
    expect(await workerCard.textContent()).toMatch(/slots busy0 \/ \d+/);
    await expect.poll(() => page.locator(`[data-model="${TINY_MODEL}"]`).textContent(), { timeout: SHOWN_WITHIN_MS }).toMatch(/loaded.*loaded on.*dash-hive/);

    const chat = await fetch(`${queen.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: TINY_MODEL, messages: [{ role: "user", content: "Hello" }], max_tokens: 4 }),
    });
    expect(chat.status).toBe(200);
    await chat.text();
    await expect.poll(() => page.locator("#traffic").textContent(), { timeout: SHOWN_WITHIN_MS }).toMatch(/requests, last minute1 \(0 errors\)/);

    // A hive whose token an admin revoked before it ever connected says both.
    await client.createHive("dash-revoked");
    const revoked = await fetch(`${queen.url}/v1/hives/dash-revoked/token`, { method: "DELETE", headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(revoked.status).toBe(200);
    await expect.poll(() => page.locator('[data-hive="dash-revoked"]').textContent(), { timeout: SHOWN_WITHIN_MS }).toMatch(/offline.*token revoked.*Has not connected yet/);

    // All of it arrived on the page it first loaded.
    expect(navigations).toBe(1);

    await mkdir(ARTIFACTS, { recursive: true });
    const desktop = join(ARTIFACTS, "dashboard-desktop.png");
    await page.screenshot({ path: desktop, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    const phone = join(ARTIFACTS, "dashboard-phone.png");
    await page.screenshot({ path: phone, fullPage: true });
    console.log(`dashboard screenshots: ${desktop} and ${phone}`);

    expect(offOrigin).toEqual([]);
  });

  it("remembers the key across a reload, and forgets it on sign-out", { timeout: 60_000 }, async () => {
    await page.reload();
    await expect.poll(() => page.locator("#status").textContent(), { timeout: SHOWN_WITHIN_MS }).toMatch(/^live · /);
    await page.click("#sign-out");
    expect(await page.locator("#sign-in").isVisible()).toBe(true);
    expect(await page.evaluate("localStorage.length")).toBe(0);
    expect(offOrigin).toEqual([]);
  });
});
