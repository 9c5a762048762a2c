// Stops child processes this process cannot stop itself once it is dead. wrangler's workerd does
// not watch its parent: when `npm start` dies without running its shutdown (SIGKILL, a crash in
// native code), workerd keeps serving the port with the old state until someone kills it (and
// wrangler's esbuild service, holding a build context open, waits forever for its host). The
// guard is a tiny shell reading the pids to guard from a pipe from this process; the kernel
// closes the pipe however this process ends, and the shell then stops them. Used by start.ts.
import { spawn } from "node:child_process";
import type { Writable } from "node:stream";
import { execa } from "execa";

export interface OrphanGuard {
  /** Guards this process's running children whose executable has one of these names (e.g. `workerd`) too. */
  guardChildrenNamed(...names: string[]): Promise<number[]>;
  /** Stands the guard down before a clean shutdown stops the processes itself; safe to call twice. */
  disarm(): void;
}

/** How long the guard lets a process stop after SIGTERM before SIGKILL, seconds. */
const GRACE_SECONDS = 2;

// Reads one pid a line for as long as the pipe is open; `read` fails at its end, however this
// process ended. Terminal signals (Ctrl-C, a closed terminal, a supervisor's SIGTERM to every
// process) are ignored: the guard's job starts when its pipe closes, not before.
const GUARD_SCRIPT = [
  "trap '' INT TERM HUP",
  'pids=""',
  'while read -r pid; do pids="$pids $pid"; done',
  '[ -n "$pids" ] || exit 0',
  "kill -TERM $pids 2>/dev/null",
  `sleep ${GRACE_SECONDS}`,
  "kill -KILL $pids 2>/dev/null",
  "exit 0",
].join("; ");

/** Starts the guard, a shell guarding nothing until told which pids. */
export function startOrphanGuard(): OrphanGuard {
  const guard = spawn("sh", ["-c", GUARD_SCRIPT], {
    stdio: ["pipe", "ignore", "ignore"],
    detached: true, // its own session: no terminal signal reaches it
  });
  guard.unref();
  // Neither the guard nor its open pipe may keep this process's event loop alive.
  const pipe = guard.stdin as (Writable & { unref?: () => void }) | null;
  pipe?.unref?.();
  pipe?.on("error", () => {}); // a guard killed by someone else: nothing left to write to
  const guarded = new Set<number>();
  let armed = true;
  return {
    async guardChildrenNamed(...names) {
      const pids = (await childrenNamed(names)).filter((pid) => !guarded.has(pid));
      for (const pid of pids) guarded.add(pid);
      if (armed && pids.length > 0) pipe?.write(pids.map((pid) => `${pid}\n`).join(""));
      return pids;
    },
    disarm() {
      if (!armed) return;
      armed = false;
      guard.kill("SIGKILL");
    },
  };
}

/** Pids of this process's children whose executable has one of `names` (`ps`: Linux and macOS). */
export async function childrenNamed(names: string[]): Promise<number[]> {
  const { stdout } = await execa("ps", ["-A", "-o", "pid=,ppid=,comm="], { stdin: "ignore" });
  return stdout.split("\n").flatMap((line) => {
    const [pid, ppid, ...command] = line.trim().split(/\s+/);
    const executable = command.join(" ").split("/").at(-1);
    return Number(ppid) === process.pid && executable !== undefined && names.includes(executable) ? [Number(pid)] : [];
  });
}
