// The local queen on Miniflare keeps its state where `wrangler dev --persist-to` and `wrangler d1
// migrations apply --local --persist-to` keep it: a `.rbee/` folder from before the move (queen
// run by wrangler's unstable_startWorker) keeps its hives, keys and Durable Object storage, and
// wrangler's own migrations command finds the database the new queen migrated up to date; the
// Worker that migrates it answers only its own start.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { unstable_startWorker } from "wrangler";
import { PROJECT_ROOT, startLocalQueen, WRANGLER_ENV } from "../../scripts/local-cloud/queen.js";
import { waitUntil } from "../../shared/wait-until.js";

const ADMIN_KEY = "rbee_sk_state_test";

/** `wrangler d1 migrations apply DB --local`, as the previous local queen ran it, and its output. */
async function wranglerMigrate(persistDir: string): Promise<string> {
  const result = await execa("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir], {
    cwd: PROJECT_ROOT,
    env: { ...WRANGLER_ENV, CI: "true" },
    stdin: "ignore",
  });
  return result.stdout;
}

/** The queen as the previous local queen ran it: wrangler's dev server, state under `persistDir`. */
async function startWranglerDevQueen(persistDir: string): Promise<{ url: string; dispose(): Promise<void> }> {
  await wranglerMigrate(persistDir);
  const worker = await unstable_startWorker({
    config: join(PROJECT_ROOT, "wrangler.toml"),
    bindings: { RBEE_ADMIN_KEY: { type: "secret_text", value: ADMIN_KEY } },
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, persist: persistDir, watch: false, logLevel: "warn" },
  });
  return { url: (await worker.url).origin, dispose: () => worker.dispose() };
}

async function call(url: string, key: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** `rbee_requests_total` for a model, as GET /metrics shows it (the Metrics Durable Object's storage). */
async function requestsCounted(url: string, model: string): Promise<number> {
  const text = await (await call(url, ADMIN_KEY, "GET", "/metrics")).text();
  const line = text.split("\n").find((candidate) => candidate.startsWith(`rbee_requests_total{model="${model}",`));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

/** The folders under `dir` (one per storage kind, Durable Object class and database), relative to it. */
async function folders(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

describe("the local queen's state folder", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  const persistDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), "rbee-queen-state-"));
    dirs.push(dir);
    return join(dir, "queen");
  };

  it("keeps the hives, API keys and Durable Object storage that the queen under wrangler dev wrote", async () => {
    const dir = await persistDir();
    const before = await startWranglerDevQueen(dir);
    let key: string;
    try {
      expect((await call(before.url, ADMIN_KEY, "POST", "/v1/hives", { name: "kept-hive" })).status).toBe(201);
      const created = await call(before.url, ADMIN_KEY, "POST", "/v1/keys", { name: "kept-key", scopes: ["inference"] });
      key = ((await created.json()) as { key: string }).key;
      // Counted by the Metrics Durable Object, which saves its counters in its own storage (as
      // `other`: no worker serves the model, so it gets no label of its own).
      for (let i = 0; i < 3; i += 1) await call(before.url, ADMIN_KEY, "POST", "/v1/chat/completions", { model: "kept-model", messages: [{ role: "user", content: "hi" }] });
      await waitUntil(async () => (await requestsCounted(before.url, "other")) === 3, 20_000, "the three requests to be counted");
    } finally {
      await before.dispose();
    }
    const written = await folders(dir);
    expect(written).toEqual(expect.arrayContaining(["v3/d1/miniflare-D1DatabaseObject", "v3/do/rbee-queen-Metrics"]));

    const after = await startLocalQueen({ persistDir: dir, adminKey: ADMIN_KEY, port: 0 });
    try {
      const hives = (await (await call(after.url, ADMIN_KEY, "GET", "/v1/hives")).json()) as { data: { name: string }[] };
      expect(hives.data.map((hive) => hive.name)).toContain("kept-hive");
      expect((await call(after.url, key, "GET", "/v1/models")).status).toBe(200);
      expect(await requestsCounted(after.url, "other")).toBe(3);
    } finally {
      await after.dispose();
    }
    // No folder of its own beside wrangler's: the same storage, read and written in place.
    expect(await folders(dir)).toEqual(written);
  }, 240_000); // two queens and wrangler's migrations command, on a busy machine

  it("migrates the database so that wrangler's own migrations command finds nothing to apply", async () => {
    const dir = await persistDir();
    const queen = await startLocalQueen({ persistDir: dir, adminKey: ADMIN_KEY, port: 0 });
    expect((await call(queen.url, ADMIN_KEY, "GET", "/v1/hives")).status).toBe(200);
    await queen.dispose();
    expect(await wranglerMigrate(dir)).toContain("No migrations to apply");
  }, 120_000);

  it("lets nobody reach the Worker that migrated it without the secret of that start", async () => {
    const queen = await startLocalQueen({ persistDir: await persistDir(), adminKey: ADMIN_KEY, port: 0 });
    try {
      // Miniflare routes any request naming a Worker in MF-Route-Override to it, from anywhere.
      const plan = [{ binding: "DB", table: "d1_migrations", migrations: [{ name: "9999_drop.sql", statements: ["DROP TABLE hives"] }] }];
      for (const authorization of [undefined, "Bearer guessed"]) {
        const response = await fetch(`${queen.url}/`, {
          method: "POST",
          headers: { "MF-Route-Override": "rbee-local-migrator", "content-type": "application/json", ...(authorization ? { authorization } : {}) },
          body: JSON.stringify(plan),
        });
        expect(response.status).toBe(404);
      }
      expect((await call(queen.url, ADMIN_KEY, "POST", "/v1/hives", { name: "still-here" })).status).toBe(201);
    } finally {
      await queen.dispose();
    }
  }, 120_000);
});
