import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { HiveToQueenFrame } from "../../shared/protocol/hive-frames.js";
import type { JobEvent } from "../../shared/protocol/job-event.js";
import { waitUntil } from "../../shared/wait-until.js";
import { createModelProvisioner } from "../provisioners/model/model-vendors.js";
import { createWorkerProvisioner } from "../provisioners/worker/worker-catalog.js";
import { WorkerExits } from "../workers/worker-exits.js";
import { WorkerReadiness } from "../workers/worker-readiness.js";
import type { HiveServices } from "./hive-services.js";
import { JobRunner } from "./job-runner.js";

type JobEventFrame = Extract<HiveToQueenFrame, { type: "job_event" }>;

let cacheDir: string;
beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), "rbee-job-runner-"));
});
afterAll(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

/** Processes that are not rbee workers, started by a test; killed after each test. */
const foreigners: ChildProcess[] = [];
afterEach(() => {
  for (const child of foreigners.splice(0)) child.kill("SIGKILL");
});

function startForeign(command: string, args: string[]): { pid: number } {
  const child = spawn(command, args, { stdio: "ignore" });
  foreigners.push(child);
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  return { pid: child.pid };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function runner(workerStopGraceMs = 10_000, root = cacheDir) {
  const frames: JobEventFrame[] = [];
  const services: HiveServices = {
    models: createModelProvisioner({ cacheDir: root, env: {} }),
    workers: createWorkerProvisioner({ cacheDir: root, env: {} }),
    readiness: new WorkerReadiness(),
    exits: new WorkerExits({ logDir: path.join(root, "logs"), onExit: () => {} }),
    installations: { workerCatalogRoot: path.join(root, "workers") },
    workerStopGraceMs,
    spawnSettings: () => {
      throw new Error("no spawns in this test");
    },
    log: () => {},
  };
  const jobs = new JobRunner({
    send: (frame) => {
      if (frame.type === "job_event") frames.push(frame);
    },
    services,
  });
  const ended = async (jobId: string): Promise<JobEvent[]> => {
    const terminal = new Set(["done", "error", "cancelled"]);
    for (let waited = 0; waited < 10_000; waited += 20) {
      const events = frames.filter((frame) => frame.jobId === jobId);
      if (events.some((frame) => terminal.has(frame.event.type))) return events.map((frame) => frame.event);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`job ${jobId} did not end`);
  };
  return { jobs, frames, ended, services };
}

describe("JobRunner", () => {
  it("numbers a job's events from 0 and ends it exactly once", async () => {
    const { jobs, frames, ended } = runner();
    jobs.start("job_check1", { operation: "hive_check" });
    const events = await ended("job_check1");
    expect(events.at(-1)).toEqual({ type: "done" });
    expect(events.filter((event) => event.type === "done")).toHaveLength(1);
    expect(frames.map((frame) => frame.seq)).toEqual(frames.map((_, index) => index));
  });

  it("aborts a running operation when the queen cancels it", async () => {
    const { jobs, ended } = runner();
    jobs.start("job_cancel1", { operation: "hive_check" });
    jobs.cancel("job_cancel1");
    const events = await ended("job_cancel1");
    expect(events.at(-1)).toMatchObject({ type: "cancelled" });
    expect(events.some((event) => event.type === "data")).toBe(false);
  });

  it("interrupts a download when the hive stops, keeping its entry to resume, where a cancel leaves nothing", async () => {
    // A model server that takes requests and never answers: both downloads hang until aborted.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const stalled = (name: string) => `http://127.0.0.1:${(silent.address() as AddressInfo).port}/${name}.gguf`;
    try {
      // A catalog of its own: the entry it leaves would show in other tests' listings.
      const { jobs, ended, services } = runner(10_000, path.join(cacheDir, "stopping"));
      const state = async (model: string) => (await services.models.catalog.get(model))?.status.state;
      jobs.start("job_dropped1", { operation: "model_download", model: stalled("dropped") });
      jobs.start("job_stopped1", { operation: "model_download", model: stalled("stopped") });
      await waitUntil(async () => (await state(stalled("dropped"))) === "downloading" && (await state(stalled("stopped"))) === "downloading", 5000, "both downloads to start");

      jobs.cancel("job_dropped1");
      expect((await ended("job_dropped1")).at(-1)).toEqual({ type: "cancelled", message: "job job_dropped1 was cancelled" });
      await jobs.interruptAll(5000);
      expect((await ended("job_stopped1")).at(-1)).toEqual({ type: "cancelled", message: "the hive is shutting down" });

      // The jobs end as soon as they stop waiting; the shared fetch records its outcome after.
      await waitUntil(async () => (await state(stalled("dropped"))) === undefined && (await state(stalled("stopped"))) === "failed", 5000, "both outcomes recorded");
      expect((await services.models.catalog.get(stalled("stopped")))?.status).toEqual({
        state: "failed",
        reason: "interrupted: the hive is shutting down; ask for it again to resume",
      });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("ends a job started once the hive is stopping at once, cancelled, without running it", async () => {
    // The queen hears of the stop only when the socket closes: meanwhile it may start a worker for
    // the requests of one the hive just stopped, which would run on after the hive is gone.
    const { jobs, ended } = runner();
    await jobs.interruptAll(5000);
    jobs.start("job_late1", { operation: "worker_spawn", model: "m", source: "hf:org/repo:m.gguf", workerId: "wrk_late1" });
    // Only its end: a spawn that ran would narrate (and fail here: this runner spawns nothing).
    expect(await ended("job_late1")).toEqual([{ type: "cancelled", message: "the hive is shutting down" }]);
  });

  it("refuses to stop a process that is not this hive's worker, and leaves it running", async () => {
    const foreign = startForeign("sleep", ["30"]);
    const { jobs, ended } = runner();
    jobs.start("job_foreign1", { operation: "worker_delete", workerId: "wrk_x", pid: foreign.pid });
    const events = await ended("job_foreign1");
    expect(events.at(-1)).toMatchObject({ type: "error", code: "not_an_rbee_worker", message: expect.stringContaining("not running an rbee worker") });
    expect(events.some((event) => event.type === "narration" && event.action === "sigterm")).toBe(false);
    expect(isAlive(foreign.pid)).toBe(true);
  });

  it("refuses a process that names a catalog path and the worker id, but does not run it as its entry", async () => {
    const catalogEntry = path.join(cacheDir, "workers", "x", "worker.mjs");
    const foreign = startForeign(process.execPath, ["-e", "setTimeout(() => {}, 30000)", catalogEntry, "--worker-id", "wrk_x"]);
    const { jobs, ended } = runner();
    jobs.start("job_foreign2", { operation: "worker_delete", workerId: "wrk_x", pid: foreign.pid });
    const events = await ended("job_foreign2");
    expect(events.at(-1)).toMatchObject({ type: "error", code: "not_an_rbee_worker", message: expect.stringContaining("not running an rbee worker") });
    expect(events.some((event) => event.type === "narration" && event.action === "sigterm")).toBe(false);
    expect(isAlive(foreign.pid)).toBe(true);
  });

  it("lists empty catalogs on a fresh hive", async () => {
    const { jobs, ended } = runner();
    jobs.start("job_models1", { operation: "model_list" });
    jobs.start("job_workers1", { operation: "worker_catalog_list" });
    expect((await ended("job_models1")).find((event) => event.type === "data")).toEqual({ type: "data", payload: { models: [] } });
    expect((await ended("job_workers1")).find((event) => event.type === "data")).toEqual({ type: "data", payload: { workers: [] } });
  });

  it("ends a model_delete of a model it does not have with model_not_found", async () => {
    const { jobs, ended } = runner();
    jobs.start("job_delete1", { operation: "model_delete", model: "hf:org/repo:absent.gguf" });
    expect((await ended("job_delete1")).at(-1)).toMatchObject({ type: "error", code: "model_not_found" });
  });

  it("refuses a hostile model id before anything touches the disk", async () => {
    const { jobs, ended } = runner();
    jobs.start("job_hostile1", { operation: "model_download", model: "hf:../../etc:passwd.gguf" });
    expect((await ended("job_hostile1")).at(-1)).toMatchObject({ type: "error", code: "invalid_artifact_id" });
  });

  it("ends done when the pid names no process at all: the worker exited already", async () => {
    const { jobs, ended } = runner();
    jobs.start("job_gone1", { operation: "worker_delete", workerId: "wrk_x", pid: 2 ** 22 + 12345 });
    const events = await ended("job_gone1");
    expect(events.find((event) => event.type === "narration" && event.action === "exited")).toMatchObject({ message: expect.stringContaining("exited already") });
    expect(events.at(-1)).toMatchObject({ type: "done" });
  });
});
