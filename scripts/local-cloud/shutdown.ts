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

export class Shutdown {
  /** Run last to first: what started last stops first. */
  private readonly steps: Array<{ what: string; run: () => Promise<void> | void }> = [];
  private stopping: Promise<never> | undefined;
  private requestedAt = 0;

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
   * Owns SIGINT, SIGTERM and SIGHUP from now on. wrangler (and the exit hooks it loads) install
   * handlers that exit at once, leaving the hive and workerd behind; call this again after
   * starting wrangler to take them back.
   */
  ownSignals(): void {
    for (const signal of SIGNALS) {
      process.removeAllListeners(signal);
      process.on(signal, () => this.onSignal(signal));
    }
  }

  /** Shuts down when npm (or whatever started this process) is gone, even killed by SIGKILL. */
  exitWithParent(): void {
    ignoreBrokenOutput(); // a pipe to npm's reader may die with it: shutting down matters more
    const parentPid = process.ppid;
    watchParent(() => void this.run(`its parent (pid ${parentPid}) is gone`, 0), parentPid);
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
