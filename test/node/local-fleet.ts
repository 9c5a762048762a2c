// Test support: one queen and several real hive processes on this machine, each with its own
// name, cache folder and --memory-budget (there is no GPU here: a budget is what makes one hive
// "small" and another "big"), and the tiny model written under several file names, so the queen
// sees several models. The scheduling tests (placement, swap, failover) start one per file.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import OpenAI from "openai";
import { expect } from "vitest";
import { catalogFacts } from "../../hive/connection/catalog-facts.js";
import { createModelProvisioner } from "../../hive/provisioners/model/model-vendors.js";
import { canonicalModelId } from "../../hive/provisioners/model/model-source.js";
import { withHeadroom } from "../../queen/scheduling/memory-figures.js";
import { writeTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import { type HiveProcess, startHiveProcess } from "../../scripts/local-cloud/hive-process.js";
import { type LocalQueen, startLocalQueen } from "../../scripts/local-cloud/queen.js";
import { QueenClient } from "../../scripts/local-cloud/queen-client.js";
import { processesMentioning, waitUntil } from "./local-cloud.js";

export interface FleetHiveOptions {
  name: string;
  /** --memory-budget in bytes; omitted: all the machine has. */
  memoryBudget?: number;
}

export interface LocalFleetOptions {
  heartbeatIntervalMs: number;
  hives: FleetHiveOptions[];
  /** Names of models: the tiny model is written once per name, as `<name>.gguf`. */
  models: string[];
  queenVars?: Record<string, string>;
}

/** A worker as GET /v1/workers lists it (the fields these tests read). */
export interface ListedWorker {
  id: string;
  hive: string;
  model: string;
  state: string;
  pid: number;
  /** Requests the queen is relaying to it now. */
  requests_in_flight: number;
}

export interface LocalFleet {
  queen: LocalQueen;
  apiKey: string;
  client: QueenClient;
  hives: ReadonlyMap<string, HiveProcess>;
  /** Every line the hives (and their workers) printed, prefixed with the hive's name. */
  log: string[];
  /** The `file:` URL the tiny model was written to under `model`'s name (a worker_spawn's `source`). */
  source(model: string): string;
  /** Gets `model` into `hive`'s catalog with a model_download job, and waits until the queen knows. */
  download(hive: string, model: string): Promise<void>;
  workers(): Promise<ListedWorker[]>;
  /** The official OpenAI client, with the admin key (it is told which worker served) and no retries. */
  openAi(): OpenAI;
  stop(): Promise<void>;
}

export async function startLocalFleet(options: LocalFleetOptions): Promise<LocalFleet> {
  const dir = await mkdtemp(join(tmpdir(), "rbee-fleet-"));
  const sources = new Map<string, string>();
  await mkdir(join(dir, "models"));
  for (const model of options.models) {
    const path = join(dir, "models", `${model}.gguf`);
    await writeTinyLlamaGguf(path);
    sources.set(model, pathToFileURL(path).href);
  }
  const sourceOf = (model: string) => {
    const source = sources.get(model);
    if (source === undefined) throw new Error(`the fleet wrote no model '${model}'`);
    return source;
  };
  const apiKey = "rbee_sk_fleet_test_key";
  const queen = await startLocalQueen({
    persistDir: join(dir, "queen"),
    adminKey: apiKey,
    port: 0,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    ...(options.queenVars === undefined ? {} : { vars: options.queenVars }),
  });
  const client = new QueenClient(queen.url, apiKey);
  const log: string[] = [];
  const listedModels = async () => {
    const response = await fetch(`${queen.url}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } });
    return ((await response.json()) as { data: { id: string; hives: string[] }[] }).data;
  };
  const hives = new Map<string, HiveProcess>();
  const stop = async () => {
    await Promise.all([...hives.values()].map((hive) => hive.stop()));
    // Workers are detached and may outlive their hive: end them here.
    for (const pid of await processesMentioning(dir)) process.kill(pid, "SIGKILL");
    await queen.dispose();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const hive of options.hives) {
      const { token } = await client.createHive(hive.name);
      hives.set(
        hive.name,
        startHiveProcess({
          queenUrl: queen.url,
          name: hive.name,
          token,
          workerThreads: 1,
          cacheDir: join(dir, "hives", hive.name),
          stopWorkersOnExit: true,
          ...(hive.memoryBudget === undefined ? {} : { memoryBudget: hive.memoryBudget }),
          onLine: (line) => log.push(`[${hive.name}] ${line}`),
        }),
      );
    }
    await Promise.all([...hives.values()].map((hive) => hive.welcomed));
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${log.join("\n")}`);
  }
  return {
    queen,
    apiKey,
    client,
    hives,
    log,
    source: sourceOf,
    async download(hive, model) {
      const ended = await client.runJob({ operation: "model_download", hive, model: sourceOf(model) });
      expect(ended, `downloading '${model}' to hive ${hive}`).toMatchObject({ type: "done" });
      // The hive tells the queen its new catalog a moment after the job ends (its next hive_status).
      await waitUntil(async () => (await listedModels()).some((listed) => listed.id === model && listed.hives.includes(hive)), 10_000, `hive ${hive} to report '${model}'`);
    },
    async workers() {
      const response = await fetch(`${queen.url}/v1/workers`, { headers: { authorization: `Bearer ${apiKey}` } });
      return ((await response.json()) as { data: ListedWorker[] }).data;
    },
    openAi: () => new OpenAI({ baseURL: `${queen.url}/v1`, apiKey, maxRetries: 0 }),
    stop,
  };
}

/** What one tiny model takes to load on a CPU hive, as these tests size budgets by it. */
export interface TinyModelFootprint {
  /** The estimate the hive reports in its catalog (RAM for a CPU worker, its process included). */
  memoryBytes: number;
  /** What the queen's planner wants free to load it: the estimate plus its headroom. */
  requiredBytes: number;
}

/**
 * Puts the tiny model into a scratch catalog with the hive's own provisioner and reads the
 * figures the hive would report for it, so the tests derive budgets from the estimate rather
 * than from a guess that drifts when the estimate does.
 */
export async function tinyModelFootprint(): Promise<TinyModelFootprint> {
  const dir = await mkdtemp(join(tmpdir(), "rbee-footprint-"));
  try {
    const path = join(dir, "footprint.gguf");
    await writeTinyLlamaGguf(path);
    const provisioner = createModelProvisioner({ cacheDir: join(dir, "cache"), log: () => {} });
    const source = pathToFileURL(path).href;
    await provisioner.provision({ id: canonicalModelId(source), source }, new AbortController().signal, { narrate: () => {}, progress: () => {} });
    const [model] = catalogFacts(await provisioner.catalog.list());
    if (!model) throw new Error("the scratch catalog did not list the tiny model");
    return { memoryBytes: model.memoryBytes, requiredBytes: withHeadroom(model.memoryBytes) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
