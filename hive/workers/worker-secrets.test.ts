// WorkerSecrets on a real folder: the hive key is made once, private, and read back by the next
// hive, so a restarted hive computes the same secrets for the workers that outlived it.
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hiveKeyPath, WorkerSecrets } from "./worker-secrets.js";

let dir: string;
/** The hive's run folder (--run-dir), not made yet. */
let runDir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-secrets-"));
  runDir = path.join(dir, "run");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("WorkerSecrets", () => {
  it("creates the hive key once in the run folder, beside the channel socket, readable by this user alone", async () => {
    const keyFile = hiveKeyPath(runDir, "home-pc");
    expect(keyFile).toBe(path.join(runDir, "hive-home-pc.key"));
    await WorkerSecrets.load(keyFile);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    if (process.platform !== "win32") expect((await stat(runDir)).mode & 0o777).toBe(0o700);
    expect(await readFile(keyFile, "utf8")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("gives each worker its own secret, and a restarted hive the same ones", async () => {
    const keyFile = hiveKeyPath(runDir, "home-pc");
    const first = await WorkerSecrets.load(keyFile);
    const restarted = await WorkerSecrets.load(keyFile);
    expect(first.secretFor("wrk_a")).toMatch(/^[0-9a-f]{64}$/);
    expect(restarted.secretFor("wrk_a")).toBe(first.secretFor("wrk_a"));
    expect(first.secretFor("wrk_b")).not.toBe(first.secretFor("wrk_a"));
    const otherHive = await WorkerSecrets.load(hiveKeyPath(runDir, "office"));
    expect(otherHive.secretFor("wrk_a")).not.toBe(first.secretFor("wrk_a"));
  });

  it("keeps computed secrets, and a secret it forgot among many workers is computed the same again", async () => {
    const keyFile = hiveKeyPath(runDir, "home-pc");
    const hive = await WorkerSecrets.load(keyFile);
    const fresh = await WorkerSecrets.load(keyFile);
    const ids = Array.from({ length: 600 }, (_, index) => `wrk_${index}`);
    const firstPass = ids.map((id) => hive.secretFor(id));
    expect(new Set(firstPass).size).toBe(ids.length);
    // The oldest were dropped from the hive's memory by now; each is the same when asked again.
    expect(ids.map((id) => hive.secretFor(id))).toEqual(firstPass);
    expect(ids.map((id) => fresh.secretFor(id))).toEqual(firstPass);
  });

  it("gives a hive of the same name in another run folder a key of its own", async () => {
    const otherRunDir = path.join(dir, "other-run");
    expect(hiveKeyPath(otherRunDir, "home-pc")).not.toBe(hiveKeyPath(runDir, "home-pc"));
    const here = await WorkerSecrets.load(hiveKeyPath(runDir, "home-pc"));
    const beside = await WorkerSecrets.load(hiveKeyPath(otherRunDir, "home-pc"));
    expect(beside.secretFor("wrk_a")).not.toBe(here.secretFor("wrk_a"));
  });

  it.skipIf(process.platform === "win32")("refuses a key file other users may read, saying how to fix it", async () => {
    const keyFile = hiveKeyPath(runDir, "home-pc");
    await WorkerSecrets.load(keyFile);
    await chmod(keyFile, 0o644);
    await expect(WorkerSecrets.load(keyFile)).rejects.toMatchObject({ code: "hive_key_exposed", message: expect.stringContaining(`chmod 600 ${keyFile}`) });
  });

  it("refuses a key file that holds no key rather than replacing it", async () => {
    const keyFile = hiveKeyPath(runDir, "home-pc");
    await WorkerSecrets.load(keyFile);
    await writeFile(keyFile, "not a key", { mode: 0o600 });
    await expect(WorkerSecrets.load(keyFile)).rejects.toMatchObject({ code: "hive_key_unreadable" });
  });
});
