// The drill for a real local llama.cpp build, kept out of `npm test` (minutes of compiling; the
// `.slow.test.ts` name keeps it to `npm run drills`): a `worker_install {source: "local",
// worker_type: "cpu", rebuild: true}` job through the hive's job runner compiles llama.cpp from the
// source node-llama-cpp ships into a fresh worker catalog (rebuild, because node-llama-cpp's prebuilt
// CPU binary loads on this machine and would otherwise be used), then a worker started from that
// catalog entry loads the compiled build and serves a chat with the tiny model.
// Prints the build's time: `npm run drills -- test/drills/local-build.slow.test.ts`.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import { findFreeLoopbackPort } from "../../shared/free-port.js";
import type { HiveToQueenFrame } from "../../shared/protocol/hive-frames.js";
import type { JobEvent } from "../../shared/protocol/job-event.js";
import { waitForReadyLine } from "../../shared/protocol/listening-line.js";
import { workerLaunchArgs } from "../../shared/protocol/worker-launch.js";
import { waitUntil } from "../../shared/wait-until.js";
import { JobRunner } from "../../hive/jobs/job-runner.js";
import type { HiveServices } from "../../hive/jobs/hive-services.js";
import { createModelProvisioner } from "../../hive/provisioners/model/model-vendors.js";
import { resolveWorker } from "../../hive/provisioners/worker/resolve-worker.js";
import { createWorkerProvisioner } from "../../hive/provisioners/worker/worker-catalog.js";
import { workerCommand } from "../../hive/provisioners/worker/worker-command.js";
import { WorkerExits } from "../../hive/workers/worker-exits.js";
import { WorkerReadiness } from "../../hive/workers/worker-readiness.js";
import { workerSecretEnv } from "../support/running-worker.js";

/** A CPU build of llama.cpp on a busy 2-core machine takes many minutes. */
const BUILD_TIMEOUT_MS = 60 * 60_000;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-local-llama-build-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a local llama.cpp build", () => {
  it(
    "compiles llama.cpp for the CPU into the worker catalog, and a worker from that entry serves a chat with it",
    async () => {
      const events: JobEvent[] = [];
      const services: HiveServices = {
        models: createModelProvisioner({ cacheDir: dir, env: {} }),
        workers: createWorkerProvisioner({ cacheDir: dir, env: process.env }),
        readiness: new WorkerReadiness(),
        exits: new WorkerExits({ logDir: path.join(dir, "logs"), onExit: () => {} }),
        installations: { workerCatalogRoot: path.join(dir, "workers") },
        workerStopGraceMs: 5_000,
        spawnSettings: () => {
          throw new Error("no spawns through the runner in this drill");
        },
        log: () => {},
      };
      const jobs = new JobRunner({
        send: (frame: HiveToQueenFrame) => {
          if (frame.type !== "job_event") return;
          events.push(frame.event);
          if (frame.event.type === "narration") console.log(`[${frame.event.action}] ${frame.event.message}`);
        },
        services,
      });
      const started = performance.now();
      jobs.start("job_localbuild1", { operation: "worker_install", workerType: "cpu", source: "local", rebuild: true });
      await waitUntil(() => events.some((event) => ["done", "error", "cancelled"].includes(event.type)), BUILD_TIMEOUT_MS, "the worker_install job to end", 500);
      const seconds = Math.round((performance.now() - started) / 1000);
      expect(events.at(-1)).toEqual({ type: "done" });
      const actions = events.flatMap((event) => (event.type === "narration" ? [event.action] : []));
      expect(actions).toEqual(expect.arrayContaining(["rebuild", "toolchain", "source", "configure", "compile", "check", "built", "installed"]));

      const worker = await resolveWorker(services.workers.catalog, "cpu");
      if (!worker) throw new Error("the built worker is not in the catalog");
      const build = worker.details.llamaBuild;
      if (build?.kind !== "compiled") throw new Error(`expected a compiled llama.cpp build, got ${JSON.stringify(build)}`);
      expect(build.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(build.toolchain.cmakeVersion).toMatch(/^\d+\.\d+/);
      console.log(`local llama.cpp cpu build: ${build.buildSeconds} s of compiling (${seconds} s for the whole worker_install job); ${JSON.stringify(build.toolchain)}`);
      const folder = services.workers.catalog.folderOf(worker.id);
      expect(await readdir(path.join(folder, build.folder))).toContain("llama-addon.node");
      expect(await readdir(folder)).not.toContain("llama.tmp");

      const { command, args } = workerCommand(services.workers.catalog, worker);
      expect(args).toEqual([path.join(folder, "worker.mjs"), "--llama-build", path.join(folder, build.folder)]);
      const modelPath = path.join(dir, "tiny.gguf");
      await writeTinyLlamaGguf(modelPath);
      const port = await findFreeLoopbackPort();
      const flags = workerLaunchArgs({ modelPath, modelName: "tiny", workerId: "wrk_localbuild1", port, hiveChannel: `http://127.0.0.1:${await findFreeLoopbackPort()}`, threads: 1, gpu: "cpu" });
      const { env, authorization } = workerSecretEnv();
      const child = execa(command, [...args, ...flags], { cwd: dir, env, reject: false });
      try {
        await Promise.race([
          waitForReadyLine(child.stdout),
          child.then((result) => {
            throw new Error(`the worker exited with ${result.exitCode} before listening: ${result.stderr}`);
          }),
        ]);
        let health: unknown;
        await waitUntil(async () => {
          health = await (await fetch(`http://127.0.0.1:${port}/health`, { headers: { authorization } })).json();
          return (health as { status?: string }).status === "ready";
        }, 60_000, "the worker to load the model", 200);
        expect(health).toMatchObject({ status: "ready", model: "tiny" });
        // Through the OpenAI client, as a user's program would talk to it (its key is the worker's secret).
        const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: authorization.slice("Bearer ".length), maxRetries: 0 });
        const chat = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 4, temperature: 0 });
        expect(chat).toMatchObject({ object: "chat.completion", model: "tiny" });
        // The worker loaded the catalog's build, not node-llama-cpp's prebuilt binary.
        if (process.platform === "linux") {
          const maps = await readFile(`/proc/${child.pid ?? 0}/maps`, "utf8");
          expect(maps).toContain(path.join(folder, build.folder, "llama-addon.node"));
        }
      } finally {
        child.kill("SIGKILL");
        await child;
      }
    },
    BUILD_TIMEOUT_MS + 120_000,
  );
});
