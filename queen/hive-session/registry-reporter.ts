// How a HiveSession tells the Registry about its workers: one call per change (never one per
// heartbeat), in order (a report must not overtake the hive going offline), as a snapshot when the
// Registry may hold nothing of this hive (after a hello, or when it answers `snapshot_needed`).
// Also writes the D1 bookkeeping of workers appearing and going.
import { registryStub } from "../registry/stub.js";
import { noteHiveModel, recordStops } from "../registry/worker-bookkeeping.js";
import type { StopReason, WorkerReport } from "../registry/worker-report.js";
import type { ForgottenWorker } from "./hive-workers.js";
import { TaskChain } from "./task-chain.js";

export class RegistryReporter {
  private readonly chain = new TaskChain((error) => console.error("could not report a hive's workers to the registry", error));
  /** Whether the Registry holds this hive's workers: false until a snapshot went through. */
  private synced = false;

  constructor(
    private readonly env: Env,
    /** Everything the session holds of its hive's workers, marked reported. */
    private readonly snapshot: () => WorkerReport[],
  ) {}

  /** Workers that appeared or changed; `appeared` are new (their model gets its hive_models sighting). */
  changed(hiveName: string, upserts: WorkerReport[], appeared: string[] = []): Promise<void> {
    if (upserts.length === 0) return this.chain.idle();
    return this.chain.run(async () => {
      await this.send(hiveName, upserts, []);
      for (const upsert of upserts) {
        if (appeared.includes(upsert.heartbeat.workerId)) await noteHiveModel(this.env.DB, hiveName, upsert.heartbeat.model, upsert.lastSeenAtMs);
      }
    });
  }

  /** Workers that went, and why. */
  gone(hiveName: string, workers: ForgottenWorker[], reason: StopReason): Promise<void> {
    if (workers.length === 0) return this.chain.idle();
    return this.chain.run(async () => {
      const live = workers.filter((worker) => worker.wasLive);
      if (live.length > 0) await this.send(hiveName, [], live.map(({ workerId }) => ({ workerId, reason })));
      await recordStops(this.env.DB, workers.map((worker) => worker.workerId), reason);
      const now = Date.now();
      for (const model of new Set(live.map((worker) => worker.model))) await noteHiveModel(this.env.DB, hiveName, model, now);
    });
  }

  /**
   * The hive's socket closed: its workers leave the Registry at once; the next report is a
   * snapshot. Resolves once the Registry has heard; the D1 records follow in the chain.
   */
  offline(hiveName: string, workers: ForgottenWorker[]): Promise<void> {
    const heard = this.chain.run(async () => {
      this.synced = false;
      await registryStub(this.env).hiveOffline(hiveName);
    });
    void this.chain.run(async () => {
      const live = workers.filter((worker) => worker.wasLive);
      await recordStops(this.env.DB, live.map((worker) => worker.workerId), "hive_offline");
      const now = Date.now();
      for (const model of new Set(live.map((worker) => worker.model))) await noteHiveModel(this.env.DB, hiveName, model, now);
    });
    return heard;
  }

  /** A hello: the Registry may hold nothing of this hive (or stale workers the hello dropped), so send a snapshot next. */
  resync(hiveName: string): Promise<void> {
    return this.chain.run(async () => {
      this.synced = false;
      await this.send(hiveName, [], []);
    });
  }

  idle(): Promise<void> {
    return this.chain.idle();
  }

  private async send(hiveName: string, upserts: WorkerReport[], gone: { workerId: string; reason: StopReason }[]): Promise<void> {
    const registry = registryStub(this.env);
    if (this.synced) {
      const outcome = await registry.report(hiveName, { snapshot: false, upserts, gone });
      if (outcome.ok) return;
      this.synced = false; // the Registry restarted or was evicted: it holds nothing of this hive
    }
    await registry.report(hiveName, { snapshot: true, upserts: this.snapshot(), gone });
    this.synced = true;
  }
}
