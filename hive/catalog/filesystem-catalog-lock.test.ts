// FilesystemCatalog.withLock: jobs in this process and in other real Node processes take turns on
// one entry, different entries never wait on each other, a SIGKILLed holder's lock is taken over
// (at once, or once stale where its holder did not say who it was), and a waiting job can be cancelled.
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { execa, type ResultPromise } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArtifactFields, type Artifact } from "./artifact.js";
import { FilesystemCatalog } from "./filesystem-catalog.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, "../..");
/** proper-lockfile's floor: a lock is never stale sooner than this, ms. */
const SHORT_STALE_MS = 2000;

let dir = "";
let root = "";
/** Where the lock holders of a test, in this process and the other, write what they did when. */
let eventsFile = "";

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-lock-"));
  root = path.join(dir, "catalog");
  eventsFile = path.join(dir, "events.log");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function newCatalog(lockStaleMs?: number): FilesystemCatalog<Artifact> {
  return new FilesystemCatalog(root, ArtifactFields, "thing", () => {}, lockStaleMs === undefined ? {} : { lockStaleMs });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

const never = () => new AbortController().signal;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function recordEvent(event: string): Promise<void> {
  await appendFile(eventsFile, `${event}\n`);
}

async function recordedEvents(): Promise<string[]> {
  const text = await readFile(eventsFile, "utf8").catch(() => "");
  return text.split("\n").filter((line) => line !== "");
}

/**
 * Starts a real Node process that takes the lock on `id`, prints `locked`, and holds it `holdMs`.
 * It records `holder starts` and `holder ends` in the events file while it holds the lock, so a
 * test can tell what ran while the other process held the entry and what ran after.
 * Returns the process inside an object: an async function returning the (thenable) process itself
 * would wait for it to exit.
 */
async function lockInAnotherProcess(id: string, holdMs: number, lockStaleMs: number): Promise<{ child: ResultPromise }> {
  const script = path.join(dir, "hold-lock.mjs");
  await writeFile(
    script,
    [
      `import { FilesystemCatalog } from ${JSON.stringify(pathToFileURL(path.join(HERE, "filesystem-catalog.ts")).href)};`,
      `import { ArtifactFields } from ${JSON.stringify(pathToFileURL(path.join(HERE, "artifact.ts")).href)};`,
      `import { appendFileSync } from "node:fs";`,
      `const [root, id, holdMs, staleMs, events] = process.argv.slice(2);`,
      `const catalog = new FilesystemCatalog(root, ArtifactFields, "thing", console.error, { lockStaleMs: Number(staleMs) });`,
      `await catalog.withLock(id, new AbortController().signal, () => console.log("waiting"), async () => {`,
      `  appendFileSync(events, "holder starts\\n");`,
      `  console.log("locked");`,
      `  await new Promise((resolve) => setTimeout(resolve, Number(holdMs)));`,
      `  appendFileSync(events, "holder ends\\n");`,
      `});`,
      `console.log("released");`,
    ].join("\n"),
  );
  const child = execa("node", ["--import", "tsx", script, root, id, String(holdMs), String(lockStaleMs), eventsFile], { cwd: REPO_ROOT });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("locked")) resolve();
    });
    child.catch(reject);
    child.then(() => reject(new Error("the lock holder exited before taking the lock")), reject);
  });
  return { child };
}

describe("FilesystemCatalog.withLock in one process", () => {
  it("runs two jobs on one id one after the other, telling the second it waits", async () => {
    const catalog = newCatalog();
    const events: string[] = [];
    const firstInside = deferred();
    const first = catalog.withLock("hf:o/r:f.gguf", never(), () => events.push("first waits"), async () => {
      events.push("first starts");
      firstInside.resolve();
      await sleep(400);
      events.push("first ends");
    });
    await firstInside.promise;
    const second = catalog.withLock("hf:o/r:f.gguf", never(), () => events.push("second waits"), async () => {
      events.push("second starts");
      return "second result";
    });
    await first;
    expect(await second).toBe("second result");
    expect(events).toEqual(["first starts", "second waits", "first ends", "second starts"]);
  });

  it("runs jobs on different ids at the same time", async () => {
    const catalog = newCatalog();
    const bothInside = { a: deferred(), b: deferred() };
    const waits: string[] = [];
    const run = (id: "a" | "b", other: "a" | "b") =>
      catalog.withLock(id, never(), () => waits.push(id), async () => {
        bothInside[id].resolve();
        await bothInside[other].promise; // would never settle if the two ran one after the other
        return id;
      });
    expect(await Promise.all([run("a", "b"), run("b", "a")])).toEqual(["a", "b"]);
    expect(waits).toEqual([]);
  });

  it("aborts its holder's signal when the lock is lost, naming the entry, so the holder stops writing it", async () => {
    const catalog = newCatalog(SHORT_STALE_MS);
    const reason = await catalog.withLock("x", never(), () => {}, async (held) => {
      expect(held.aborted).toBe(false);
      // Gone from under it, as when another process took it over as stale.
      await rm(path.join(root, ".locks"), { recursive: true, force: true });
      await new Promise((resolve) => held.addEventListener("abort", resolve, { once: true }));
      return held.reason as unknown;
    });
    expect(reason).toMatchObject({ code: "catalog_lock_lost", message: expect.stringContaining("thing 'x': this process lost its lock on the catalog entry") });
  });

  it("releases the lock when the job throws, and passes the error on", async () => {
    const catalog = newCatalog();
    await expect(catalog.withLock("x", never(), () => {}, async () => Promise.reject(new Error("job broke")))).rejects.toThrow("job broke");
    let waited = false;
    expect(await catalog.withLock("x", never(), () => (waited = true), async () => "again")).toBe("again");
    expect(waited).toBe(false);
  });

  it("runs the job once even when it throws an error coded ELOCKED", async () => {
    const catalog = newCatalog();
    let runs = 0;
    let waited = false;
    const busy = Object.assign(new Error("some other file is locked"), { code: "ELOCKED" });
    await expect(
      catalog.withLock("x", never(), () => (waited = true), async () => {
        runs++;
        throw busy;
      }),
    ).rejects.toBe(busy);
    expect(runs).toBe(1);
    expect(waited).toBe(false);
  });

  it("stops waiting when its signal is aborted, without running the job", async () => {
    const catalog = newCatalog();
    const held = deferred();
    const holderInside = deferred();
    const holder = catalog.withLock("x", never(), () => {}, async () => {
      holderInside.resolve();
      await held.promise;
    });
    await holderInside.promise;
    const controller = new AbortController();
    let ran = false;
    const waiter = catalog.withLock("x", controller.signal, () => controller.abort(new Error("job cancelled")), async () => {
      ran = true;
    });
    await expect(waiter).rejects.toThrow("job cancelled");
    expect(ran).toBe(false);
    held.resolve();
    await holder;
  });

  it("does not start a job whose signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("gone"));
    let ran = false;
    await expect(newCatalog().withLock("x", controller.signal, () => {}, async () => (ran = true))).rejects.toThrow("gone");
    expect(ran).toBe(false);
  });
});

describe("FilesystemCatalog.withLock across processes", () => {
  it("waits for another process to release the entry, then runs", async () => {
    const { child } = await lockInAnotherProcess("hf:o/r:f.gguf", 1000, 30_000);
    let waited = false;
    await newCatalog().withLock("hf:o/r:f.gguf", never(), () => (waited = true), () => recordEvent("waiter runs"));
    expect(waited).toBe(true);
    expect(await recordedEvents()).toEqual(["holder starts", "holder ends", "waiter runs"]);
    const result = await child;
    expect(String(result.stdout).split("\n")).toEqual(["locked", "released"]);
  });

  it("does not make another process's different entry wait", async () => {
    // Held for ten minutes: had this job waited for it, the test would time out.
    const { child } = await lockInAnotherProcess("held-elsewhere", 600_000, 30_000);
    let waited = false;
    await newCatalog().withLock("free-here", never(), () => (waited = true), () => recordEvent("other entry runs"));
    expect(waited).toBe(false);
    expect(await recordedEvents()).toEqual(["holder starts", "other entry runs"]);
    child.kill("SIGKILL");
    await expect(child).rejects.toMatchObject({ signal: "SIGKILL" });
  });

  it("takes over the lock of a SIGKILLed process that did not say who held it once it goes stale", async () => {
    // Held for ten minutes: only taking over the stale lock lets this job run before the test times out.
    const { child } = await lockInAnotherProcess("x", 600_000, SHORT_STALE_MS);
    child.kill("SIGKILL");
    await expect(child).rejects.toMatchObject({ signal: "SIGKILL" });
    // As an older hive's lock, or one whose holder could not write the file naming it.
    const holderFiles = (await readdir(path.join(root, ".locks"))).filter((name) => name.endsWith(".holder.json"));
    expect(holderFiles).toHaveLength(1);
    await rm(path.join(root, ".locks", holderFiles[0] ?? ""));
    let waited = false;
    await newCatalog(SHORT_STALE_MS).withLock("x", never(), () => (waited = true), () => recordEvent("taker runs"));
    expect(waited).toBe(true);
    expect(await recordedEvents()).toEqual(["holder starts", "taker runs"]);
  });

  // Stale only 30 s after the holder's last refresh: seeing that the holder is gone is what lets
  // this job run before the test times out.
  it("takes over the lock of a process that was SIGKILLed at once, before it goes stale", { timeout: 15_000 }, async () => {
    const { child } = await lockInAnotherProcess("x", 600_000, 30_000);
    child.kill("SIGKILL");
    await expect(child).rejects.toMatchObject({ signal: "SIGKILL" });
    await newCatalog(30_000).withLock("x", never(), () => {}, () => recordEvent("taker runs"));
    expect(await recordedEvents()).toEqual(["holder starts", "taker runs"]);
  });

  it("keeps a live holder's lock past the stale time by refreshing it", async () => {
    const { child } = await lockInAnotherProcess("x", SHORT_STALE_MS * 2, SHORT_STALE_MS);
    await newCatalog(SHORT_STALE_MS).withLock("x", never(), () => {}, () => recordEvent("waiter runs"));
    // Taken over as stale, the waiter would have run before the holder's twice-the-stale-time hold ended.
    expect(await recordedEvents()).toEqual(["holder starts", "holder ends", "waiter runs"]);
    expect((await child).stdout).toContain("released");
  });
});
