// removeDeadHoldersLock: a lock folder whose holder is a gone process of this machine is removed;
// one of a live process, of another machine, or refreshed a moment ago is left alone.
import { mkdir, mkdtemp, rm, stat, utimes } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeDeadHoldersLock } from "./dead-holder-lock.js";

let dir = "";
let lockFolder = "";

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-dead-holder-"));
  lockFolder = path.join(dir, "entry.lock");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The pid of a process that ran and is gone. */
async function deadPid(): Promise<number> {
  const { stdout } = await execa(process.execPath, ["-e", "console.log(process.pid)"]);
  return Number(stdout);
}

/** A lock folder as a holder leaves it, last refreshed `ageMs` ago. */
async function lockFolderRefreshed(ageMs: number): Promise<void> {
  await mkdir(lockFolder);
  const then = new Date(Date.now() - ageMs);
  await utimes(lockFolder, then, then);
}

const folderExists = () => stat(lockFolder).then(() => true, () => false);

describe("removeDeadHoldersLock", () => {
  it("removes the lock of a holder of this machine that no longer runs", async () => {
    await lockFolderRefreshed(5_000);
    expect(await removeDeadHoldersLock(lockFolder, { pid: await deadPid(), host: hostname() })).toBe(true);
    expect(await folderExists()).toBe(false);
  });

  it("leaves the lock of a live holder", async () => {
    await lockFolderRefreshed(60_000);
    expect(await removeDeadHoldersLock(lockFolder, { pid: process.pid, host: hostname() })).toBe(false);
    expect(await folderExists()).toBe(true);
  });

  it("leaves the lock of a holder on another machine, whose pid means nothing here", async () => {
    await lockFolderRefreshed(5_000);
    expect(await removeDeadHoldersLock(lockFolder, { pid: await deadPid(), host: `${hostname()}-elsewhere` })).toBe(false);
    expect(await folderExists()).toBe(true);
  });

  it("leaves a lock refreshed a moment ago: a live process may have just taken it over", async () => {
    await lockFolderRefreshed(0);
    expect(await removeDeadHoldersLock(lockFolder, { pid: await deadPid(), host: hostname() })).toBe(false);
    expect(await folderExists()).toBe(true);
  });

  it("leaves a lock whose holder did not say who it is", async () => {
    await lockFolderRefreshed(5_000);
    expect(await removeDeadHoldersLock(lockFolder, undefined)).toBe(false);
    expect(await folderExists()).toBe(true);
  });

  it("says to try again when the lock is already gone", async () => {
    expect(await removeDeadHoldersLock(lockFolder, { pid: await deadPid(), host: hostname() })).toBe(true);
  });
});
