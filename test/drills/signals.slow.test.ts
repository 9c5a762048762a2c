// Drill: signals and orphans. A supervisor (systemd, Docker, a CI runner) signals the top process
// of `npm start` — npm — alone, or kills it outright. Each case runs the real `npm start` on one
// state folder and port (as a user restarting it would), sends the signal, and watches /proc until
// every process it started (npm, scripts/start.ts, workerd, the hive, the worker) is gone,
// printing each one's pid and how long it took to exit. Slow (a full start per case): `npm run drills`.
import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreeLoopbackPort } from "../../shared/free-port.js";
import { isAlive, waitUntil } from "../node/local-cloud.js";
import { commandOf, descendants, runNpmStart, type NpmStart } from "../support/npm-start-process.js";

/** Generous: a loaded machine stops workerd, a hive and its worker in seconds, not a minute. */
const EXIT_BOUND_MS = 60_000;
const CASE_TIMEOUT_MS = 240_000;

/** A short name for a process of the tree, from its command line. */
function roleOf(command: string): string {
  if (/^npm\b/.test(command)) return "npm";
  if (command.includes("scripts/start.ts")) return "start.ts";
  if (command.includes("workerd")) return "workerd";
  if (command.includes("rbee-hive")) return "hive";
  if (command.includes("worker.mjs")) return "worker";
  if (command.includes("esbuild")) return "esbuild";
  if (command.startsWith("sh -c")) return "guard";
  return command.slice(0, 30);
}

/**
 * Watches `pids` from `since` until every one has exited (or the bound passes), printing each
 * one's role, pid and ms to exit; returns those still running.
 */
async function watchExits(label: string, pids: Map<number, string>, since: number): Promise<number[]> {
  const exitedAfterMs = new Map<number, number>();
  await waitUntil(
    () => {
      for (const pid of pids.keys()) if (!exitedAfterMs.has(pid) && !isAlive(pid)) exitedAfterMs.set(pid, Date.now() - since);
      return exitedAfterMs.size === pids.size;
    },
    EXIT_BOUND_MS,
    `every process of npm start to exit after ${label}`,
  ).catch(() => {}); // reported below, and asserted by the caller
  console.log(`[signals drill] ${label}:`);
  for (const [pid, role] of pids) {
    const after = exitedAfterMs.get(pid);
    console.log(`  ${role.padEnd(9)} pid ${String(pid).padEnd(8)} ${after === undefined ? "STILL RUNNING" : `exited after ${after} ms`}`);
  }
  return [...pids.keys()].filter((pid) => !exitedAfterMs.has(pid));
}

describe("signals drill: npm start and every process it started stop", () => {
  let stateDir = "";
  let port = 0;
  let current: NpmStart | undefined;
  const all: NpmStart[] = [];

  /** A ready `npm start`: the one left running by the previous case, else a new one. */
  async function running(): Promise<NpmStart> {
    if (current === undefined) {
      current = runNpmStart(stateDir, port);
      all.push(current);
      await current.ready();
    }
    return current;
  }

  /** The processes of `start` by pid, with their roles, and start.ts's pid. */
  async function tree(start: NpmStart): Promise<{ pids: Map<number, string>; startTs: number }> {
    const pids = new Map((await start.started()).map((pid) => [pid, roleOf(commandOf(pid))] as const));
    const startTs = [...pids].find(([, role]) => role === "start.ts")?.[0];
    if (startTs === undefined) throw new Error(`no scripts/start.ts below npm (pid ${start.pid}): ${[...pids.values()].join(", ")}`);
    for (const role of ["workerd", "hive", "worker"]) expect([...pids.values()]).toContain(role);
    return { pids, startTs };
  }

  const lockReleased = () => access(join(stateDir, "instance.json")).then(() => false, () => true);

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "rbee-signals-"));
    port = await findFreeLoopbackPort();
  });

  afterAll(async () => {
    for (const start of all) await start.kill();
    await rm(stateDir, { recursive: true, force: true });
  });

  /** Sends `label`'s signal(s) to a running npm start and asserts every process of it exits. */
  async function stopWith(label: string, send: (npm: number, startTs: number) => void): Promise<NpmStart> {
    const start = await running();
    const { pids, startTs } = await tree(start);
    const since = Date.now();
    send(start.pid, startTs);
    current = undefined; // whatever happens next, the next case starts afresh
    expect(await watchExits(label, pids, since)).toEqual([]);
    return start;
  }

  it("SIGTERM to npm alone (a supervisor's stop) stops everything cleanly", { timeout: CASE_TIMEOUT_MS }, async () => {
    const start = await stopWith("SIGTERM to npm", (npm) => process.kill(npm, "SIGTERM"));
    expect(start.output).toContain("SIGTERM: stopping the hive, its workers and the queen");
    expect(start.output).toMatch(/stopped worker wrk_\S+ \(pid \d+\)/);
    expect(await lockReleased()).toBe(true);
  });

  it("SIGINT to npm alone stops everything cleanly", { timeout: CASE_TIMEOUT_MS }, async () => {
    const start = await stopWith("SIGINT to npm", (npm) => process.kill(npm, "SIGINT"));
    expect(start.output).toContain("SIGINT: stopping the hive, its workers and the queen");
    expect(await lockReleased()).toBe(true);
  });

  it("SIGKILL to npm and scripts/start.ts: their children exit by themselves, and the next npm start comes up", { timeout: CASE_TIMEOUT_MS }, async () => {
    await stopWith("SIGKILL to npm and start.ts", (npm, startTs) => {
      process.kill(npm, "SIGKILL");
      process.kill(startTs, "SIGKILL");
    });
    expect(await lockReleased()).toBe(false); // left behind by the killed start.ts; the next start takes it over

    const next = await running(); // same state folder, same port
    expect(next.output).toContain(`OPENAI_BASE_URL=http://127.0.0.1:${port}/v1`);
    console.log(`[signals drill] the next npm start (npm pid ${next.pid}, ${descendants(next.pid).length} processes below it) came up`);
  });

  it("SIGKILL to npm alone: scripts/start.ts notices and stops everything cleanly", { timeout: CASE_TIMEOUT_MS }, async () => {
    const start = await stopWith("SIGKILL to npm", (npm) => process.kill(npm, "SIGKILL"));
    expect(start.output).toMatch(/its parent \(pid \d+\) is gone: stopping the hive, its workers and the queen/);
    expect(await lockReleased()).toBe(true);
  });
});
