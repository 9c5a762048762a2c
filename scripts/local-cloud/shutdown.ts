// `npm start`'s one way out: SIGINT, SIGTERM and SIGHUP to it alone, its parent (npm) going away,
// or a failed start all run the same steps — the hive (which stops its workers), then the queen,
// then the state folder's lock — and exit. Used by scripts/start.ts.
import { ignoreBrokenOutput } from "../../shared/ignore-broken-output.js";
import { watchParent } from "../../shared/watch-parent.js";

/**
 * A second signal this soon after the first is the same request arriving twice: Ctrl-C reaches
 * the whole process group, and npm forwards the SIGINT it got to this process too. Only a later
 * one means "stop waiting".
 */
const SAME_REQUEST_WINDOW_MS = 2000;

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function isOwnedSignal(event: string | symbol): event is (typeof SIGNALS)[number] {
  return (SIGNALS as readonly (string | symbol)[]).includes(event);
}

export class Shutdown {
  /** Run last to first: what started last stops first. */
  private readonly steps: Array<{ what: string; run: () => Promise<void> | void }> = [];
  private stopping: Promise<never> | undefined;
  private requestedAt = 0;
  private ownsSignals = false;

  /** Adds what to undo at shutdown; steps added while shutting down are run too. */
  add(what: string, run: () => Promise<void> | void): void {
    this.steps.push({ what, run });
  }

  /** Whether shutdown has begun: the caller starts nothing more. */
  get requested(): boolean {
    return this.stopping !== undefined;
  }

  /**
   * Resolves at once while running; once shutdown has begun, never (the process exits), so a
   * start in progress stops at its next checkpoint instead of starting more.
   */
  checkpoint(): Promise<void> {
    return this.stopping ?? Promise.resolve();
  }

  /** Runs every step, each at most once however often this is called, then exits with `exitCode`. */
  run(reason: string, exitCode: number): Promise<never> {
    this.stopping ??= this.runSteps(reason, exitCode);
    return this.stopping;
  }

  /**
   * Owns SIGINT, SIGTERM and SIGHUP from now on: takes off the listeners there are, and any added
   * later as soon as it is added. wrangler's exit hooks, and Miniflare's each time a queen starts
   * after the last one was disposed (QueenKeeper's restart), add listeners that stop workerd and
   * exit at once with 130 or 143 — beside this one, they would cut the hive's stop short.
   */
  ownSignals(): void {
    if (this.ownsSignals) return;
    this.ownsSignals = true;
    const own = new Set<(...args: unknown[]) => void>();
    for (const signal of SIGNALS) {
      process.removeAllListeners(signal);
      const listener = () => this.onSignal(signal);
      own.add(listener);
      process.on(signal, listener);
    }
    process.on("newListener", (event: string | symbol, listener: (...args: unknown[]) => void) => {
      if (!isOwnedSignal(event) || own.has(listener)) return;
      // Emitted before the listener is added; signals arrive on a later turn of the event loop, never in between.
      queueMicrotask(() => process.removeListener(event, listener));
    });
  }

  /** Shuts down when npm (or whatever started this process) is gone, even killed by SIGKILL. */
  exitWithParent(): void {
    ignoreBrokenOutput(); // a pipe to npm's reader may die with it: shutting down matters more
    const parentPid = process.ppid;
    // npm passes on SIGINT and SIGTERM, not SIGHUP: a SIGHUP sent to npm alone kills npm (status
    // 129, whatever this process does), and this is how it reaches here.
    watchParent(() => void this.run(`its parent (pid ${parentPid}) is gone (killed, or sent SIGHUP, which npm does not pass on)`, 0), parentPid);
  }

  private onSignal(signal: string): void {
    if (this.stopping === undefined) {
      this.requestedAt = Date.now();
      void this.run(signal, 0);
    } else if (Date.now() - this.requestedAt > SAME_REQUEST_WINDOW_MS) {
      console.error(`${signal} again: exiting without waiting for the hive and the queen to stop`);
      process.exit(1);
    }
  }

  private async runSteps(reason: string, exitCode: number): Promise<never> {
    console.log(`\n${reason}: stopping the hive, its workers and the queen…`);
    for (let step = this.steps.pop(); step !== undefined; step = this.steps.pop()) {
      try {
        await step.run();
      } catch (error) {
        console.error(`npm start: could not stop ${step.what}: ${(error as Error).message}`);
      }
    }
    process.exit(exitCode);
  }
}
