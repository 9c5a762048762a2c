// Runs one step of a llama.cpp build (git, cmake-js, cmake) as a process tree the hive can take
// down whole: a build is node → cmake → ninja → a compiler per core, and killing only the first
// would leave compilers running for minutes after a cancel. On POSIX the step leads a process group
// of its own (detached), and a cancel kills the group; on Windows, `taskkill /T` kills the tree.
// The step runs at a lower priority, so the workers this hive already serves keep their CPU.
import { spawn, spawnSync } from "node:child_process";
import { setPriority } from "node:os";
import { createInterface } from "node:readline";

/** Niceness of a build (POSIX 0–19, mapped to "below normal" on Windows): behind serving, ahead of idle. */
const BUILD_NICENESS = 10;

export interface StepCommand {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** A step that ran and failed; the caller words the message, with the output it kept. */
export class BuildStepFailed extends Error {
  override readonly name = "BuildStepFailed";
  constructor(
    readonly exitCode: number | null,
    readonly signalName: NodeJS.Signals | null,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs `step` to its end, handing each output line to `onLine`. Rejects with `signal.reason` once
 * the signal aborts (after the whole tree was killed), or with BuildStepFailed when it fails.
 */
export async function runBuildStep(step: StepCommand, signal: AbortSignal, onLine: (line: string) => void, onStart?: (pid: number) => void): Promise<void> {
  signal.throwIfAborted();
  const child = spawn(step.command, step.args, {
    cwd: step.cwd,
    env: step.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: process.platform !== "win32",
    windowsHide: true,
  });
  const exited = new Promise<{ code: number | null; signalName: NodeJS.Signals | null }>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signalName) => resolve({ code, signalName }));
  });
  const pid = child.pid;
  const onAbort = () => {
    if (pid !== undefined) killTree(pid);
  };
  try {
    if (pid !== undefined) {
      onStart?.(pid);
      try {
        setPriority(pid, BUILD_NICENESS);
      } catch {
        // Only a courtesy to the machine; a build at normal priority is still a build.
      }
    }
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) onAbort();
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);
    const { code, signalName } = await exited;
    signal.throwIfAborted();
    if (code !== 0) {
      throw new BuildStepFailed(code, signalName, `${step.command} exited with ${code === null ? `signal ${signalName ?? "?"}` : `code ${code}`}`);
    }
  } catch (error) {
    // A failed step can leave its children behind too (make -k, a hung compiler): take them along.
    onAbort();
    signal.throwIfAborted();
    if (error instanceof BuildStepFailed) throw error;
    throw new BuildStepFailed(null, null, `could not run ${step.command}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** Kills `pid` and everything it started; a tree that is already gone is fine. */
export function killTree(pid: number): void {
  if (process.platform === "win32") {
    spawnSync("taskkill", ["/pid", String(pid), "/T", "/F"], { stdio: "ignore", windowsHide: true });
    return;
  }
  try {
    process.kill(-pid, "SIGKILL");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}
