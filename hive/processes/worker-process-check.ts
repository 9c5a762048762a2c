// Decides whether a PID really is one of this machine's rbee workers before the hive signals it.
// The queen sends a PID from its registry, but a PID alone proves nothing (it may have been
// reused, or the queen may be wrong): the process's own command line must run a worker from
// this installation (its source entry, or a build in its worker catalog) with the expected
// `--worker-id`.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

/** This repository's worker entry point, which `npm start` and tests may run through tsx. */
export const WORKER_SOURCE_ENTRY = fileURLToPath(new URL("../../worker/main.ts", import.meta.url));

/** Where this hive's workers may run from. */
export interface WorkerInstallations {
  /** The worker catalog folder (`<cache>/workers`): anything started from inside it. */
  workerCatalogRoot: string;
}

export type WorkerProcessCheck = { ok: true } | { ok: false; reason: string };

export async function checkWorkerProcess(pid: number, workerId: string, installations: WorkerInstallations): Promise<WorkerProcessCheck> {
  if (pid === process.pid || pid <= 1) return { ok: false, reason: `pid ${pid} is the hive itself or init` };
  const args = await commandLine(pid);
  if (args === undefined) return { ok: false, reason: `no process with pid ${pid} is running` };
  if (!args.some((arg) => isWorkerEntry(arg, installations))) {
    return { ok: false, reason: `pid ${pid} is not running an rbee worker from ${installations.workerCatalogRoot}` };
  }
  const idAt = args.indexOf("--worker-id");
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
  for (const pid of await allPids()) {
    if (pid === process.pid) continue;
    const args = await commandLine(pid);
    if (!args?.some((arg) => isWorkerEntry(arg, installations))) continue;
    const flag = (name: string) => {
      const at = args.indexOf(name);
      return at >= 0 ? args[at + 1] : undefined;
    };
    found.push({ pid, workerId: flag("--worker-id"), modelPath: flag("--model"), hiveChannel: flag("--hive-channel") });
  }
  return found;
}

function isWorkerEntry(arg: string, installations: WorkerInstallations): boolean {
  if (arg === WORKER_SOURCE_ENTRY) return true;
  const root = path.resolve(installations.workerCatalogRoot) + path.sep;
  return path.isAbsolute(arg) && path.resolve(arg).startsWith(root);
}

/** The process's argv, or undefined if it does not exist. */
async function commandLine(pid: number): Promise<string[] | undefined> {
  if (process.platform === "linux") {
    const raw = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => undefined);
    return raw?.split("\0").filter((arg) => arg.length > 0);
  }
  // macOS and other Unixes: no /proc. `ps` joins argv with spaces; worker paths with spaces
  // would split, which only makes the check refuse, never wrongly accept.
  const result = await execa("ps", ["-o", "command=", "-p", String(pid)], { reject: false });
  if (result.exitCode !== 0 || result.stdout.trim() === "") return undefined;
  return result.stdout.trim().split(/\s+/);
}

async function allPids(): Promise<number[]> {
  if (process.platform === "linux") {
    const names = await readdir("/proc");
    return names.filter((name) => /^\d+$/.test(name)).map(Number);
  }
  const result = await execa("ps", ["-A", "-o", "pid="], { reject: false });
  return result.stdout.split("\n").map((line) => Number(line.trim())).filter((pid) => Number.isInteger(pid) && pid > 0);
}

/** Whether the process is gone (or a zombie its parent has yet to reap, which is as good). */
export async function hasExited(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
  if (process.platform !== "linux") return false;
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // Field 3, after the parenthesised command name (which may itself hold spaces or parens).
  return stat === "" || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
}
