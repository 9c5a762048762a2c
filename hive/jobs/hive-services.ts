// What the hive's job operations work with: its two catalogs, the watches over its workers'
// heartbeats and exits, and the settings a spawn needs that change while the hive runs.
import type { HiveDevices } from "../../shared/protocol/hive-devices.js";
import type { ArtifactProvisioner } from "../catalog/artifact-provisioner.js";
import type { ModelArtifact } from "../catalog/model/model-artifact.js";
import type { WorkerArtifact, WorkerType } from "../catalog/worker/worker-artifact.js";
import type { WorkerInstallations } from "../processes/worker-process-check.js";
import type { WorkerExits } from "../workers/worker-exits.js";
import type { WorkerReadiness } from "../workers/worker-readiness.js";

export interface SpawnSettings {
  /** The hive's local channel (`unix:/…` or `http://127.0.0.1:…`), where workers heartbeat. */
  hiveChannel: string;
  heartbeatIntervalMs: number;
  /** How long a loading worker's progress may stand still before its load counts as stalled, ms. */
  loadStallMs: number;
  /** CPU threads per worker; undefined lets the worker decide. */
  threads: number | undefined;
  /** Slots (requests generated at once) per worker; undefined lets the worker decide. */
  parallel: number | undefined;
  /** µs a worker polls after a token for the next (`--poll-us`); undefined lets the worker decide. */
  pollUs: number | undefined;
  /** Where worker log files go. */
  logDir: string;
  /** The worker type a spawn gets when it names none: the best this machine runs. */
  defaultWorkerType: WorkerType;
  /** The machine's devices as last detected (free memory included). */
  devices: HiveDevices;
  /** The API secret worker `workerId` is started with (its environment) and sent with every relayed request. */
  workerSecret: (workerId: string) => string;
}

export interface HiveServices {
  models: ArtifactProvisioner<ModelArtifact>;
  workers: ArtifactProvisioner<WorkerArtifact>;
  readiness: WorkerReadiness;
  /** Watches serving workers for an unannounced end; told of a child's exit, and of a worker the hive stops itself. */
  exits: WorkerExits;
  installations: WorkerInstallations;
  /** `owner/repo` that worker_install looks bare worker ids and tags up in (--worker-release-repo); none when unset. */
  workerReleaseRepo?: string | undefined;
  /** How long a deleted worker may drain after SIGTERM before SIGKILL, ms. */
  workerStopGraceMs: number;
  /** Read when a spawn starts: the channel and heartbeat interval can change after startup. */
  spawnSettings(): SpawnSettings;
  log(line: string): void;
}
