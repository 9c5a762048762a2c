// Decides whether a PID really is one of this machine's rbee workers before the hive signals it,
// and finds the workers still running (worker_delete, model_delete, a hive that stops its own).
// The queen sends a PID from its registry, but a PID alone proves nothing (it may have been
// reused, or the queen may be wrong): the process's own command line must start a worker from
// this hive's worker catalog, as its entry, with the expected `--worker-id`.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { WORKER_FLAGS } from "../../shared/protocol/worker-launch.js";

/** Where this hive's workers may run from. */
export interface WorkerInstallations {
  /** The worker catalog folder (`<cache>/workers`): entries started from inside it. */
  workerCatalogRoot: string;
}

export type WorkerProcessCheck = { ok: true } | { ok: false; reason: string };

export async function checkWorkerProcess(pid: number, workerId: string, installations: WorkerInstallations): Promise<WorkerProcessCheck> {
  if (pid === process.pid || pid <= 1) return { ok: false, reason: `pid ${pid} is the hive itself or init` };
  const args = await commandLine(pid);
  if (args === undefined) return { ok: false, reason: `no process with pid ${pid} is running` };
  if (!runsCatalogWorker(args, installations)) {
    return { ok: false, reason: `pid ${pid} is not running an rbee worker from ${installations.workerCatalogRoot}` };
  }
  const idAt = args.indexOf(WORKER_FLAGS.workerId);
  if (idAt < 0 || args[idAt + 1] !== workerId) return { ok: false, reason: `pid ${pid} is an rbee worker, but not ${workerId}` };
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
export async function findWorkerProcesses(installations: WorkerInstallations): Promise<FoundWorker[]> {
  const found: FoundWorker[] = [];
  for (const { pid, args } of await allCommandLines()) {
    if (pid === process.pid || !runsCatalogWorker(args, installations)) continue;
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
function runsCatalogWorker(args: readonly string[], installations: WorkerInstallations): boolean {
  const [program, script] = args;
  if (program === undefined) return false; // a zombie's argv is empty
  if (isInsideCatalog(program, installations)) return true;
  return isNode(program) && script !== undefined && isInsideCatalog(script, installations);
}

function isInsideCatalog(arg: string, installations: WorkerInstallations): boolean {
  const root = path.resolve(installations.workerCatalogRoot) + path.sep;
  return path.isAbsolute(arg) && path.resolve(arg).startsWith(root);
}

/**
 * The hive starts bundles with its own `process.execPath`; a worker that outlived a hive may run
 * under an older node, so any executable named node counts.
 */
function isNode(program: string): boolean {
  return program === process.execPath || /^node(\d+)?(\.exe)?$/.test(path.basename(program));
}

/** The process's argv, or undefined if it does not exist. */
async function commandLine(pid: number): Promise<string[] | undefined> {
  if (process.platform === "linux") return linuxCommandLine(pid);
  // macOS and other Unixes: no /proc.
  const result = await execa("ps", ["-ww", "-o", "command=", "-p", String(pid)], { reject: false });
  if (result.exitCode !== 0 || result.stdout.trim() === "") return undefined;
  return splitPsCommand(result.stdout);
}

async function allCommandLines(): Promise<Array<{ pid: number; args: string[] }>> {
  if (process.platform === "linux") {
    const pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name)).map(Number);
    const lines: Array<{ pid: number; args: string[] }> = [];
    for (const pid of pids) {
      const args = await linuxCommandLine(pid);
      if (args) lines.push({ pid, args });
    }
    return lines;
  }
  // One ps for every process, not one per pid: a Mac runs hundreds of them.
  const result = await execa("ps", ["-A", "-ww", "-o", "pid=,command="], { reject: false });
  return result.stdout.split("\n").flatMap((line) => {
    const match = /^\s*(\d+)\s+(.*)$/.exec(line);
    return match?.[1] && match[2] ? [{ pid: Number(match[1]), args: splitPsCommand(match[2]) }] : [];
  });
}

async function linuxCommandLine(pid: number): Promise<string[] | undefined> {
  const raw = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => undefined);
  return raw?.split("\0").filter((arg) => arg.length > 0);
}

/**
 * `ps` joins argv with spaces; worker paths with spaces would split, which only makes the check
 * refuse, never wrongly accept.
 */
function splitPsCommand(command: string): string[] {
  return command.trim().split(/\s+/);
}
