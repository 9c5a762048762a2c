// The hive daemon: one queen connection, one local channel for its workers' heartbeats, its two
// catalogs (models, worker builds), and handlers for what the queen asks (run a job, cancel it,
// relay a request, cancel it). It keeps no worker registry; its workers run detached and outlive
// it, and a restarted hive finds them again through its fixed channel socket.
import path from "node:path";
import type { LogFn } from "../shared/log/json-log.js";
import { describeError } from "../shared/errors.js";
import type { HiveDevices } from "../shared/protocol/hive-devices.js";
import { MAX_HELLO_WORKERS, type QueenToHiveFrame, WORKER_NOT_ISSUED } from "../shared/protocol/hive-frames.js";
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from "../shared/protocol/hive-socket-limits.js";
import { cutToLength, MAX_MESSAGE_CHARS } from "../shared/protocol/text-limits.js";
import { isTerminal } from "../shared/protocol/job-event.js";
import type { WorkerType } from "./catalog/worker/worker-artifact.js";
import { channelSocketPath } from "./workers/channel-socket-path.js";
import { HeartbeatBatcher } from "./connection/heartbeat-batcher.js";
import { JobEventOutbox } from "./connection/job-event-outbox.js";
import { HiveStatusReporter } from "./connection/hive-status-reporter.js";
import { QueenConnection } from "./connection/queen-connection.js";
import { detectDevices } from "./devices/detect-devices.js";
import type { HiveServices } from "./jobs/hive-services.js";
import { JobRunner } from "./jobs/job-runner.js";
import { LocalChannel } from "./workers/local-channel.js";
import type { ConnectOptions } from "./config/options.js";
import { pruneWorkerLogs } from "./processes/prune-worker-logs.js";
import { capWorkerLogs, PREVIOUS_PART_SUFFIX, WORKER_LOG_CAP_BYTES } from "./processes/worker-log-cap.js";
import { stopThenExit } from "./processes/crash-guard.js";
import { findWorkerProcesses, workerInstallationsIn } from "./processes/worker-process-check.js";
import type { ProgressPrinter } from "./progress/progress-printer.js";
import { createModelProvisioner } from "./provisioners/model/model-vendors.js";
import { createWorkerProvisioner } from "./provisioners/worker/worker-catalog.js";
import { type WorkerExit, WorkerExits } from "./workers/worker-exits.js";
import { WorkerReadiness } from "./workers/worker-readiness.js";
import { WorkerRelays } from "./workers/worker-relays.js";
import { DisownedWorkers } from "./workers/disowned-workers.js";
import { stopChannelWorkers } from "./workers/stop-channel-workers.js";
import { hiveKeyPath, WorkerSecrets } from "./workers/worker-secrets.js";

/** Jobs after whose end the model catalog may have changed (a spawn downloads a missing model). */
const CATALOG_JOBS: ReadonlySet<string> = new Set(["model_download", "model_delete", "worker_spawn"]);
/** How long a stopping hive waits for its jobs to record that they were interrupted, ms. */
const JOB_INTERRUPT_WAIT_MS = 5000;
/** How often worker logs are measured against their cap, ms. */
const LOG_CAP_CHECK_MS = 5 * 60_000;
/** A worker silent this many heartbeat intervals is not listed in the hello: the queen's rule for expiring it. */
const SILENT_WORKER_INTERVALS = 3;
/** Preferred worker type when a spawn names none: the fastest backend this machine runs. */
const WORKER_TYPE_PREFERENCE: WorkerType[] = ["cuda", "metal", "vulkan", "cpu"];

export class Hive {
  private readonly connection: QueenConnection;
  private readonly channel: LocalChannel;
  private readonly jobs: JobRunner;
  private readonly outbox: JobEventOutbox;
  private readonly readiness = new WorkerReadiness();
  private readonly exits: WorkerExits;
  private readonly relays: WorkerRelays;
  private readonly heartbeats: HeartbeatBatcher;
  private readonly disowned: DisownedWorkers;
  private readonly services: HiveServices;
  private channelUrl: string | undefined;
  /** This hive's workers found running when it started (a previous hive's): they re-attach as soon as they find this hive. */
  private workersAtStart: string[] = [];
  private secrets: WorkerSecrets | undefined;
  private heartbeatIntervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS;
  /** Devices (memory budget applied) and catalog models, for the hello and hive_status. */
  private readonly status: HiveStatusReporter;
  private stopping: Promise<void> | undefined;
  /** Cuts worker logs that grew past their cap (worker-log-cap.ts), now and then while the hive runs. */
  private logCapTimer: ReturnType<typeof setInterval> | undefined;
  /** Where workers' output goes, `<cache>/logs/<worker id>.log`. */
  private readonly logDir: string;

  constructor(
    private readonly options: ConnectOptions,
    log: LogFn = (line) => console.log(line),
    /** Called once the hive stopped because the queen will not take it (token revoked or rejected). */
    onRevoked: () => void = () => {},
    /** Shown each download's progress (the CLI draws a bar on a terminal). */
    progress?: Pick<ProgressPrinter, "progress" | "end">,
  ) {
    this.logDir = path.join(options.cacheDir, "logs");
    this.status = new HiveStatusReporter({
      detectDevices: () => detectDevices({ log }),
      listModels: () => this.services.models.catalog.list(),
      memoryBudget: options.memoryBudget,
      send: (frame) => this.connection.send(frame),
      heartbeatIntervalMs: () => this.heartbeatIntervalMs,
      log,
    });
    this.connection = new QueenConnection({
      queenUrl: options.queenUrl,
      hiveName: options.name,
      token: options.token,
      devices: () => this.currentDevices(),
      models: () => this.status.catalogModels(),
      jobs: () => [...new Set([...this.jobs.runningJobIds(), ...this.outbox.jobIds()])],
      workers: () => this.readiness.liveWorkerIds(SILENT_WORKER_INTERVALS * this.heartbeatIntervalMs, this.workersAtStart).slice(0, MAX_HELLO_WORKERS),
      onFrame: (frame) => this.onFrame(frame),
      onDisconnect: () => {
        this.outbox.pause();
        this.relays.detachAll();
        this.heartbeats.reset();
      },
      onRefused: (message, cause, revoked) => {
        // `refused` is for a supervisor reading the log (npm start names the cause when it stops).
        log(message, { refused: cause });
        // Ends either way (a stop that fails is logged): a hive its queen refuses can do nothing.
        // Cut off by an admin, it takes its workers with it: nobody can reach them any more, and
        // they would hold their models' memory until someone found them. Refused as it connects
        // (a mistyped token), it leaves them for the next start with the right one.
        void stopThenExit(() => this.stop(revoked || this.options.stopWorkersOnExit), log, () => onRevoked(), 1);
      },
      log,
    });
    this.heartbeats = new HeartbeatBatcher({ send: (frame) => this.connection.send(frame), intervalMs: () => this.heartbeatIntervalMs });
    this.outbox = new JobEventOutbox({ send: (frame) => this.connection.send(frame), log });
    this.exits = new WorkerExits({ logDir: this.logDir, onExit: (exit) => this.onWorkerExit(exit) });
    this.channel = new LocalChannel((heartbeat) => {
      this.readiness.observe(heartbeat);
      this.exits.observe(heartbeat);
      this.status.observe(heartbeat);
      // Kept while the queen is unreachable, and sent with its welcome (heartbeat-batcher.ts).
      this.status.afterCatalogSent(() => this.heartbeats.observe(heartbeat));
    }, log);
    this.relays = new WorkerRelays({
      log,
      lastHeard: (workerId) => this.readiness.lastHeard(workerId),
      secretFor: (workerId) => this.requireSecrets().secretFor(workerId),
      heartbeatIntervalMs: () => this.heartbeatIntervalMs,
    });
    const installations = workerInstallationsIn(options.cacheDir);
    this.services = {
      models: createModelProvisioner({ cacheDir: options.cacheDir, env: process.env, log }),
      workers: createWorkerProvisioner({ cacheDir: options.cacheDir, githubApiUrl: options.githubApiUrl, env: process.env, log }),
      readiness: this.readiness,
      exits: this.exits,
      installations,
      workerStopGraceMs: options.workerStopGraceMs,
      workerReleaseRepo: options.workerReleaseRepo,
      spawnSettings: () => ({
        hiveChannel: this.requireChannel(),
        heartbeatIntervalMs: this.heartbeatIntervalMs,
        loadStallMs: options.workerLoadStallMs,
        threads: options.workerThreads,
        parallel: options.workerParallel,
        pollUs: options.workerPollUs,
        logDir: this.logDir,
        defaultWorkerType: WORKER_TYPE_PREFERENCE.find((type) => this.currentDevices().workerTypes.includes(type)) ?? "cpu",
        devices: this.currentDevices(),
        workerSecret: (workerId) => this.requireSecrets().secretFor(workerId),
      }),
      log,
    };
    this.disowned = new DisownedWorkers({ installations, channelUrl: () => this.channelUrl, graceMs: options.workerStopGraceMs, log });
    this.jobs = new JobRunner({
      send: (frame) => this.outbox.push(frame),
      services: this.services,
      onEvent: (jobId, operation, event) => {
        // A worker_spawn's model is in the catalog once it starts the worker: told then, the queen
        // can start another worker of it as soon as this one is ready (and, say, dies).
        const spawning = operation === "worker_spawn" && event.type === "narration" && event.action === "spawn";
        if (spawning || (isTerminal(event) && CATALOG_JOBS.has(operation))) this.status.catalogChanged();
        if (!progress) return;
        if (event.type === "progress") progress.progress(jobId, operation, event.bytes, event.total, event.bytes_per_second ?? null);
        else if (isTerminal(event)) progress.end(jobId);
      },
    });
  }

  async start(): Promise<void> {
    // What a hive that died mid-delete left in the catalogs' trash: gigabytes nobody will use.
    for (const provisioner of [this.services.models, this.services.workers]) {
      provisioner.catalog.emptyTrash().catch((error: unknown) => this.services.log(`could not empty the catalog trash: ${describeError(error)}`));
    }
    void this.pruneLogs();
    this.logCapTimer = setInterval(() => void this.capLogs(), LOG_CAP_CHECK_MS);
    this.logCapTimer.unref();
    await this.status.start();
    this.channelUrl = await this.channel.listen(channelSocketPath(this.options.runDir, this.options.name));
    // After the channel: a second hive of this name has been refused by then, so one creates the key.
    this.secrets = await WorkerSecrets.load(hiveKeyPath(this.options.runDir, this.options.name));
    this.workersAtStart = await this.ownWorkerIds(this.channelUrl);
    // Read by a supervisor (scripts/local-cloud/hive-process.ts): npm start reuses such a worker instead of starting a second.
    if (this.workersAtStart.length > 0) this.services.log(`workers left running by a previous hive: ${this.workersAtStart.join(", ")} (they re-attach as soon as they find this hive)`);
    this.connection.start();
  }

  /**
   * Stops relaying and disconnects; safe to call twice. Workers keep running (a restarted hive
   * re-attaches them) unless `stopWorkers`, when each gets SIGTERM and, after the grace, SIGKILL.
   */
  stop(stopWorkers = this.options.stopWorkersOnExit): Promise<void> {
    this.stopping ??= this.shutDown(stopWorkers);
    return this.stopping;
  }

  private async shutDown(stopWorkers: boolean): Promise<void> {
    this.connection.windDown();
    this.status.stop();
    clearInterval(this.logCapTimer);
    this.exits.stop(); // workers it stops, or that end meanwhile, go with its socket
    this.relays.abortAll();
    // Before any await: from this turn on, a job the queen starts is refused (job-runner.ts).
    await this.jobs.interruptAll(JOB_INTERRUPT_WAIT_MS);
    if (stopWorkers && this.channelUrl) await this.stopOwnWorkers(this.channelUrl);
    this.heartbeats.flush(); // the workers' last word (stopped), before the socket closes
    this.connection.close();
    await this.channel.close();
    this.heartbeats.reset();
  }

  private async stopOwnWorkers(channelUrl: string): Promise<void> {
    await stopChannelWorkers(channelUrl, this.services.installations, this.options.workerStopGraceMs, (line) => this.services.log(line));
  }

  /** Worker processes attached to this hive's local channel; none when they cannot be listed (the hello then lists only workers heard). */
  private async ownWorkerIds(channelUrl: string): Promise<string[]> {
    try {
      const found = await findWorkerProcesses(this.services.installations);
      return found.flatMap((worker) => (worker.hiveChannel === channelUrl && worker.workerId ? [worker.workerId] : []));
    } catch (error) {
      this.services.log(`could not list this hive's running workers: ${describeError(error)}`);
      return [];
    }
  }

  /** Worker logs past their cap, kept as `<id>.log.1` and started afresh; never fatal. */
  private async capLogs(): Promise<void> {
    try {
      for (const name of await capWorkerLogs(this.logDir)) this.services.log(`worker log ${name} passed ${WORKER_LOG_CAP_BYTES / 1024 / 1024} MiB: kept as ${name}${PREVIOUS_PART_SUFFIX}, started afresh`);
    } catch (error) {
      this.services.log(`could not cap worker logs: ${describeError(error)}`);
    }
  }

  /** Old logs of workers that are gone; never fatal, never in the way of starting. */
  private async pruneLogs(): Promise<void> {
    try {
      const running = new Set((await findWorkerProcesses(this.services.installations)).flatMap((worker) => (worker.workerId ? [worker.workerId] : [])));
      const removed = await pruneWorkerLogs(this.logDir, running);
      if (removed > 0) this.services.log(`removed ${removed} worker log(s) older than a week`);
    } catch (error) {
      this.services.log(`could not prune worker logs: ${describeError(error)}`);
    }
  }

  private currentDevices(): HiveDevices {
    return this.status.devices();
  }

  private requireSecrets(): WorkerSecrets {
    if (!this.secrets) throw new Error("the hive key is loaded in start(), before the queen connection opens");
    return this.secrets;
  }

  private requireChannel(): string {
    if (!this.channelUrl) throw new Error("the local channel listens in start(), before any job can arrive");
    return this.channelUrl;
  }

  /** A serving worker's process ended unannounced: the queen stops placing on it now, not after three missed heartbeats. */
  private onWorkerExit({ workerId, detail }: WorkerExit): void {
    this.readiness.exited(workerId);
    this.heartbeats.forget(workerId);
    const sent = this.connection.send({ type: "worker_exited", workerId, detail: cutToLength(detail, MAX_MESSAGE_CHARS) });
    // Unsent while the queen is away: the next hello leaves the worker out, which says the same.
    this.services.log(`worker ${workerId} ended unannounced: ${detail}${sent ? "; sent to the queen" : ""}`);
  }

  private onFrame(frame: QueenToHiveFrame): void {
    switch (frame.type) {
      case "welcome":
        this.heartbeatIntervalMs = frame.heartbeatIntervalMs;
        // A worker found at start that has not re-attached within the queen's silence limit is gone.
        if (this.workersAtStart.length > 0) setTimeout(() => (this.workersAtStart = []), SILENT_WORKER_INTERVALS * frame.heartbeatIntervalMs).unref();
        this.services.log(`queen welcomed hive '${frame.hiveName}' (heartbeat every ${frame.heartbeatIntervalMs} ms)`);
        this.outbox.resume();
        this.relays.queenBack();
        // The workers' heartbeats that came while the queen was away: they are placed again now.
        this.heartbeats.flush();
        return;
      case "job_ack":
        this.outbox.ack(frame.jobId, frame.seq);
        return;
      case "pong":
        return; // QueenConnection's business
      case "job_start":
        this.jobs.start(frame.jobId, frame.operation);
        return;
      case "job_cancel":
        this.jobs.cancel(frame.jobId);
        return;
      case "request":
        this.relays.start(frame, (out) => this.connection.send(out)).catch((error: unknown) => {
          this.services.log(`relaying request ${frame.requestId} failed: ${describeError(error)}`);
        });
        return;
      case "cancel":
        this.relays.cancel(frame.requestId);
        return;
      case "response_ack":
        this.relays.ack(frame.requestId, frame.offset);
        return;
      case "resume":
        this.relays.resume(frame.requestId, frame.offset, (out) => this.connection.send(out));
        return;
      case "error":
        this.services.log(`queen reported: ${frame.code}: ${frame.message}`);
        if (frame.code === WORKER_NOT_ISSUED && frame.workerId !== undefined) this.disowned.refused(frame.workerId, frame.message);
        return;
      default: {
        const unreachable: never = frame;
        throw new Error(`unhandled frame ${JSON.stringify(unreachable)}`);
      }
    }
  }
}
