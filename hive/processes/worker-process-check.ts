// Decides whether a PID really is one of this machine's rbee workers before the hive signals it,
// and finds the workers still running (worker_delete, model_delete, a hive that stops its own).
// The queen sends a PID from its registry, but a PID alone proves nothing (it may have been
// reused, or the queen may be wrong): the process's own command line must start a worker from
// this hive's worker catalog, as its entry, with the expected `--worker-id`.
import path from "node:path";
import { WORKER_FLAGS } from "../../shared/protocol/worker-launch.js";
import { listCommandLines, type ProcessTableContext, readCommandLine } from "./process-table.js";

/** Where this hive's workers may run from. */
export interface WorkerInstallations {
  /** The worker catalog folder (`<cache>/workers`): entries started from inside it. */
  workerCatalogRoot: string;
}

/** The installations of a hive whose catalogs are in `cacheDir`. */
export function workerInstallationsIn(cacheDir: string): WorkerInstallations {
  return { workerCatalogRoot: path.join(cacheDir, "workers") };
}

/** `running: false`: no process has that PID (any more); anything else that fails is a process that is not that worker. */
export type WorkerProcessCheck = { ok: true } | { ok: false; reason: string; running: boolean };

export async function checkWorkerProcess(
  pid: number,
  workerId: string,
  installations: WorkerInstallations,
  context: ProcessTableContext = {},
): Promise<WorkerProcessCheck> {
  if (pid === process.pid || pid <= 1) return { ok: false, reason: `pid ${pid} is the hive itself or init`, running: true };
  const args = await readCommandLine(pid, context);
  if (args === undefined) return { ok: false, reason: `no process with pid ${pid} is running`, running: false };
  if (!runsCatalogWorker(args, installations, context.platform)) {
    return { ok: false, reason: `pid ${pid} is not running an rbee worker from ${installations.workerCatalogRoot}`, running: true };
  }
  const idAt = args.indexOf(WORKER_FLAGS.workerId);
  if (idAt < 0 || args[idAt + 1] !== workerId) return { ok: false, reason: `pid ${pid} is an rbee worker, but not ${workerId}`, running: true };
  return { ok: true };
}

/** An rbee worker process found on this machine, with what its command line says. */
export interface FoundWorker {
  pid: number;
  workerId: string | undefined;
  modelPath: string | undefined;
  hiveChannel: string | undefined;
}

/** Every process on this machine that runs a worker of this installation. */
export async function findWorkerProcesses(installations: WorkerInstallations, context: ProcessTableContext = {}): Promise<FoundWorker[]> {
  const found: FoundWorker[] = [];
  for (const { pid, args } of await listCommandLines(context)) {
    if (pid === process.pid || !runsCatalogWorker(args, installations, context.platform)) continue;
    const flag = (name: string) => {
      const at = args.indexOf(name);
      return at >= 0 ? args[at + 1] : undefined;
    };
    found.push({ pid, workerId: flag(WORKER_FLAGS.workerId), modelPath: flag(WORKER_FLAGS.modelPath), hiveChannel: flag(WORKER_FLAGS.hiveChannel) });
  }
  return found;
}

/**
 * Whether argv starts a catalog worker the way spawn-worker does: a native binary from the
 * catalog as argv[0], or node with a bundle from the catalog as argv[1]. A catalog path anywhere
 * else (an argument to some other program, say `node -e … <catalog>/x/worker.mjs`) does not count.
 */
function runsCatalogWorker(args: readonly string[], installations: WorkerInstallations, platform: NodeJS.Platform = process.platform): boolean {
  const [program, script] = args;
  if (program === undefined) return false; // a zombie's argv is empty
  const paths = platform === "win32" ? path.win32 : path.posix;
  if (isInsideCatalog(program, installations, paths)) return true;
  return isNode(program, paths) && script !== undefined && isInsideCatalog(script, installations, paths);
}

function isInsideCatalog(arg: string, installations: WorkerInstallations, paths: path.PlatformPath): boolean {
  // Windows paths ignore case: C:\Users and c:\users are one folder.
  const normal = (value: string) => (paths === path.win32 ? paths.resolve(value).toLowerCase() : paths.resolve(value));
  return paths.isAbsolute(arg) && normal(arg).startsWith(normal(installations.workerCatalogRoot) + paths.sep);
}

/**
 * The hive starts bundles with its own `process.execPath`; a worker that outlived a hive may run
 * under an older node, so any executable named node counts.
 */
function isNode(program: string, paths: path.PlatformPath): boolean {
  return program === process.execPath || /^node(\d+)?(\.exe)?$/i.test(paths.basename(program));
}
