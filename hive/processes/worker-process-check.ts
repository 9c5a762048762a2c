// Decides whether a PID really is one of this hive's rbee workers before the hive signals it.
// The queen sends a PID from its registry, but a PID alone proves nothing (it may have been
// reused, or the queen may be wrong): the process's own command line must show this
// installation's worker entry point and the expected `--worker-id`.
import { readFile } from "node:fs/promises";
import { execa } from "execa";
import { WORKER_ENTRY } from "./spawn-worker.js";

export type WorkerProcessCheck = { ok: true } | { ok: false; reason: string };

export async function checkWorkerProcess(pid: number, workerId: string): Promise<WorkerProcessCheck> {
  if (pid === process.pid || pid <= 1) return { ok: false, reason: `pid ${pid} is the hive itself or init` };
  const args = await commandLine(pid);
  if (args === undefined) return { ok: false, reason: `no process with pid ${pid} is running` };
  if (!args.includes(WORKER_ENTRY)) return { ok: false, reason: `pid ${pid} is not running ${WORKER_ENTRY}` };
  const idAt = args.indexOf("--worker-id");
  if (idAt < 0 || args[idAt + 1] !== workerId) return { ok: false, reason: `pid ${pid} is an rbee worker, but not ${workerId}` };
  return { ok: true };
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
