// Keeps what the hive tells the queen about itself current: its devices (with the memory budget
// applied) and the models ready in its catalog. The hello reads the latest; a hive_status goes
// out every minute, at once when the catalog changes (a download or delete ended, a spawn put its
// model there), and soon after one of its workers appears, finishes loading or goes, so the
// queen's placement sees freed or claimed memory within about a second rather than a minute later.
import os from "node:os";
import { describeError } from "../../shared/errors.js";
import type { CatalogModel } from "../../shared/protocol/catalog-models.js";
import type { HiveDevices } from "../../shared/protocol/hive-devices.js";
import type { HiveToQueenFrame } from "../../shared/protocol/hive-frames.js";
import { HEARTBEAT_TIMEOUT_INTERVALS } from "../../shared/protocol/hive-socket-limits.js";
import type { WorkerHeartbeat, WorkerState } from "../../shared/protocol/worker-heartbeat.js";
import type { ModelArtifact } from "../catalog/model/model-artifact.js";
import { catalogFacts } from "./catalog-facts.js";
import { applyMemoryBudget, type WorkerMemoryUse } from "./memory-budget.js";

export const DEFAULTS = {
  /** How often the devices are detected again and sent (free memory changes), ms. */
  refreshMs: 60_000,
  /** How long a change waits for others before one hive_status tells them all, ms. */
  changeDelayMs: 500,
} as const;

export interface HiveStatusReporterOptions {
  detectDevices: () => Promise<HiveDevices>;
  listModels: () => Promise<ModelArtifact[]>;
  /** --memory-budget in bytes; undefined: the machine's own figures. */
  memoryBudget: number | undefined;
  /** Sends a hive_status frame (dropped while disconnected: the next hello says the same). */
  send: (frame: Extract<HiveToQueenFrame, { type: "hive_status" }>) => void;
  heartbeatIntervalMs: () => number;
  log: (line: string) => void;
  refreshMs?: number;
  changeDelayMs?: number;
}

/** States whose change moves memory: a worker that came, finished loading or left. */
const MEMORY_MOVES: ReadonlySet<WorkerState> = new Set(["loading", "ready", "stopped", "failed"]);

export class HiveStatusReporter {
  private detected: HiveDevices | undefined;
  private models: CatalogModel[] = [];
  private readonly workers = new Map<string, { heartbeat: WorkerHeartbeat; receivedAtMs: number }>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private changeTimer: NodeJS.Timeout | undefined;
  /** Settles once the catalog changes asked for so far have been told to the queen; undefined when none is in flight. */
  private catalogSent: Promise<void> | undefined;

  constructor(private readonly options: HiveStatusReporterOptions) {}

  /** Detects the devices and reads the catalog, then refreshes them periodically. */
  async start(): Promise<void> {
    this.detected = await this.options.detectDevices();
    await this.readCatalog();
    this.refreshTimer = setInterval(() => {
      this.refresh().catch((error: unknown) => this.options.log(`device refresh failed: ${describeError(error)}`));
    }, this.options.refreshMs ?? DEFAULTS.refreshMs);
    this.refreshTimer.unref();
  }

  /** Safe to call twice. */
  stop(): void {
    clearInterval(this.refreshTimer);
    clearTimeout(this.changeTimer);
  }

  /** The devices as the queen is told of them: the budget applied, its workers' use counted. */
  devices(): HiveDevices {
    if (!this.detected) throw new Error("devices are detected in start(), before the queen connection opens");
    return applyMemoryBudget(this.detected, this.options.memoryBudget, this.workerMemoryUse());
  }

  /** The catalog's ready models, as last read. */
  catalogModels(): CatalogModel[] {
    return this.models;
  }

  /** A heartbeat from one of this hive's workers. */
  observe(heartbeat: WorkerHeartbeat): void {
    const previous = this.workers.get(heartbeat.workerId);
    this.workers.set(heartbeat.workerId, { heartbeat, receivedAtMs: Date.now() });
    if (heartbeat.state === "stopped") this.workers.delete(heartbeat.workerId);
    if (previous?.heartbeat.state === heartbeat.state || !MEMORY_MOVES.has(heartbeat.state)) return;
    // A new worker's model was just fetched into the catalog (by its spawn job, which ends only
    // once the model is loaded): the queen hears of it now, not when the job ends.
    if (previous === undefined) this.catalogChanged();
    else this.soon();
  }

  /** A job may have changed the catalog: read it again and tell the queen now (the other changes wait for company). */
  catalogChanged(): void {
    const read = this.readCatalog()
      .then(() => this.sendNow())
      .catch((error: unknown) => this.options.log(`could not read the model catalog: ${describeError(error)}`));
    const sent = (this.catalogSent ?? Promise.resolve()).then(() => read);
    this.catalogSent = sent;
    void sent.then(() => {
      if (this.catalogSent === sent) this.catalogSent = undefined;
    });
  }

  /**
   * Calls `next` once the catalog changes asked for so far have been told to the queen, at once
   * when none is in flight, and in the order asked. A new worker's heartbeats wait for it: its
   * model is in the queen's view before the worker is (the catalog's read is a moment of file
   * reads, and on a loaded machine the heartbeat used to reach the queen first).
   */
  afterCatalogSent(next: () => void): void {
    if (this.catalogSent === undefined) next();
    else void this.catalogSent.then(next);
  }

  private async refresh(): Promise<void> {
    this.detected = await this.options.detectDevices();
    await this.readCatalog();
    this.sendNow();
  }

  private async readCatalog(): Promise<void> {
    this.models = catalogFacts(await this.options.listModels());
  }

  /** One hive_status for the changes of the next moment; free RAM read afresh, GPUs as last detected. */
  private soon(): void {
    if (this.changeTimer !== undefined) return;
    this.changeTimer = setTimeout(() => {
      this.changeTimer = undefined;
      if (this.detected) this.detected = { ...this.detected, ramFreeBytes: os.freemem() };
      this.sendNow();
    }, this.options.changeDelayMs ?? DEFAULTS.changeDelayMs);
    this.changeTimer.unref();
  }

  private sendNow(): void {
    if (!this.detected) return;
    this.options.send({ type: "hive_status", devices: this.devices(), models: this.models });
  }

  /**
   * What this hive's live workers hold, as they report it. A loading worker is counted at what it
   * holds so far: the queen's planner claims the rest of its estimate itself, and counting it here
   * too would count it twice. A worker silent for the heartbeat timeout is gone and holds nothing.
   */
  private workerMemoryUse(): WorkerMemoryUse {
    const silentAfterMs = this.options.heartbeatIntervalMs() * HEARTBEAT_TIMEOUT_INTERVALS;
    const now = Date.now();
    const used: WorkerMemoryUse = { ramBytes: 0, vramBytes: 0 };
    for (const [workerId, { heartbeat, receivedAtMs }] of this.workers) {
      if (now - receivedAtMs > silentAfterMs || heartbeat.state === "failed") {
        this.workers.delete(workerId);
        continue;
      }
      used.ramBytes += heartbeat.memoryRssBytes;
      used.vramBytes += heartbeat.memoryVramBytes ?? 0;
    }
    return used;
  }
}
