// Stops a server process the benchmarks started: SIGTERM, as the hive stops a worker, then
// SIGKILL if it has not exited in time (a worker drains and frees llama.cpp before it exits).
import type { ChildProcess } from "node:child_process";

/** Resolves once `child` has exited; `exited` is its exit, awaited from when it was spawned. */
export async function stopChild(child: ChildProcess, exited: Promise<void>, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
  const forced = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (forced) {
    child.kill("SIGKILL");
    await exited;
  }
}
