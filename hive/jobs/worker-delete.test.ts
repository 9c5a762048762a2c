// worker_delete against real processes that pass the PID check (node running a bundle from the
// worker catalog with the expected --worker-id): one that drains on SIGTERM, and one that ignores
// SIGTERM and so must be killed with SIGKILL once the grace period is over.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { JobContext } from "./job-context.js";
import { runWorkerDelete } from "./worker-delete.js";

/** Says "ready" once its SIGTERM handler is in place; `ignore` makes that handler do nothing. */
const STAND_IN = `
if (process.argv.includes("--ignore-sigterm")) process.on("SIGTERM", () => {});
else process.on("SIGTERM", () => process.exit(0));
setInterval(() => {}, 1000);
process.stdout.write("ready\\n");
`;

let root: string;
let entry: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "rbee-worker-delete-"));
  entry = path.join(root, "workers", "cpu-stand-in", "worker.mjs");
  await mkdir(path.dirname(entry), { recursive: true });
  await writeFile(entry, STAND_IN);
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Starts the stand-in the way the hive starts a bundled worker, and waits until it is ready. */
async function startStandIn(workerId: string, ignoreSigterm: boolean): Promise<{ child: ChildProcess; pid: number; exited: Promise<unknown[]> }> {
  const child = spawn(process.execPath, [entry, "--worker-id", workerId, ...(ignoreSigterm ? ["--ignore-sigterm"] : [])], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  const exited = once(child, "exit");
  await once(child.stdout ?? child, "data");
  if (child.pid === undefined) throw new Error("the stand-in did not start");
  return { child, pid: child.pid, exited };
}

function recordingContext(): { context: JobContext; narrated: Array<{ action: string; message: string }>; data: Array<Record<string, unknown>> } {
  const narrated: Array<{ action: string; message: string }> = [];
  const data: Array<Record<string, unknown>> = [];
  const context: JobContext = {
    jobId: "job_delete1",
    signal: new AbortController().signal,
    narrate: (action, message) => narrated.push({ action, message }),
    progress: () => {},
    data: (payload) => data.push(payload),
  };
  return { context, narrated, data };
}

const settings = () => ({ stopGraceMs: 300, installations: { workerCatalogRoot: path.join(root, "workers") }, releaseWatch: () => () => {} });

describe("worker_delete", () => {
  it("stops a worker that drains on SIGTERM without SIGKILL", async () => {
    const worker = await startStandIn("wrk_polite1", false);
    const { context, narrated, data } = recordingContext();
    await runWorkerDelete({ operation: "worker_delete", workerId: "wrk_polite1", pid: worker.pid }, context, settings());
    expect(await worker.exited).toEqual([0, null]);
    expect(narrated.map((step) => step.action)).toEqual(["verify", "sigterm", "exited"]);
    expect(narrated.at(-1)?.message).toMatch(/exited after \d+ ms on SIGTERM$/);
    expect(data).toEqual([{ worker_id: "wrk_polite1", pid: worker.pid, forced: false }]);
  });

  it("kills a worker that ignores SIGTERM with SIGKILL once the grace period is over, and says so", async () => {
    const worker = await startStandIn("wrk_stubborn1", true);
    const { context, narrated, data } = recordingContext();
    await runWorkerDelete({ operation: "worker_delete", workerId: "wrk_stubborn1", pid: worker.pid }, context, settings());
    expect(await worker.exited).toEqual([null, "SIGKILL"]);
    expect(narrated.map((step) => step.action)).toEqual(["verify", "sigterm", "sigkill", "exited"]);
    expect(narrated[2]?.message).toBe(`worker wrk_stubborn1: pid ${worker.pid} still runs after 300 ms; sending SIGKILL`);
    expect(narrated.at(-1)?.message).toMatch(/exited after \d+ ms, killed with SIGKILL after ignoring SIGTERM$/);
    expect(data).toEqual([{ worker_id: "wrk_stubborn1", pid: worker.pid, forced: true }]);
  });

  it("lets a stopped worker (SIGSTOP) drain on SIGTERM rather than wait out the grace for SIGKILL", async () => {
    const worker = await startStandIn("wrk_stopped1", false);
    process.kill(worker.pid, "SIGSTOP");
    const { context, narrated, data } = recordingContext();
    await runWorkerDelete({ operation: "worker_delete", workerId: "wrk_stopped1", pid: worker.pid }, context, settings());
    expect(await worker.exited).toEqual([0, null]);
    expect(narrated.map((step) => step.action)).toEqual(["verify", "sigterm", "exited"]);
    expect(data).toEqual([{ worker_id: "wrk_stopped1", pid: worker.pid, forced: false }]);
  });

  it("ends done for a worker that exited already (a crash, a hung worker killed by hand), signalling nothing", async () => {
    const worker = await startStandIn("wrk_gone1", false);
    worker.child.kill("SIGKILL");
    await worker.exited;
    const { context, narrated, data } = recordingContext();
    await runWorkerDelete({ operation: "worker_delete", workerId: "wrk_gone1", pid: worker.pid }, context, settings());
    expect(narrated).toEqual([
      { action: "verify", message: `checking that pid ${worker.pid} is rbee worker wrk_gone1` },
      { action: "exited", message: `worker wrk_gone1 (pid ${worker.pid}) is not running: it exited already` },
    ]);
    expect(data).toEqual([{ worker_id: "wrk_gone1", pid: worker.pid, forced: false }]);
  });
});
