// Keeps `npm start`'s queen running once the cloud is up. Miniflare does not say when its workerd
// exits, and a queen whose workerd was killed (out of memory, a crash, a stray `kill`) used to
// leave npm start running with nothing on its port, saying nothing, while its hive retried the
// connection forever. The keeper looks at workerd every second; once it is gone, it starts the
// queen again on the same port with the same state folder (D1, Durable Objects, keys), as
// hive-keeper.ts does the hive. The hive reconnects by itself and its workers re-attach; requests
// in flight when workerd died went with their connections. A queen that keeps exiting is given up
// (restart-budget.ts): npm start then says why and stops.
import type { LocalQueen } from "./queen.js";
import { RestartBudget, type RestartBudgetOptions } from "./restart-budget.js";
import { processRuns } from "../../shared/process-runs.js";

/** A queen and the pids of its workerd, the processes whose exit means it is gone. */
export interface RunningQueen {
  queen: LocalQueen;
  pids: readonly number[];
}

export interface QueenKeeperOptions extends RestartBudgetOptions {
  /** Starts a queen like the first one: the same port and state. */
  start: () => Promise<RunningQueen>;
  /** A line for npm start's output. */
  log: (line: string) => void;
  /** The queen exited once too often, or did not start again: npm start stops, saying `reason`. */
  giveUp: (reason: string) => void;
  /** How often workerd is looked at, ms. */
  pollMs?: number;
  /** Whether a process runs; default: signal 0 reaches it. */
  isAlive?: (pid: number) => boolean;
}

const DEFAULT_POLL_MS = 1000;

export class QueenKeeper {
  private current: RunningQueen;
  private stopping = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** A restart under way; stop() waits for it, so the queen it starts is stopped too. */
  private restarting: Promise<void> | undefined;
  private readonly budget: RestartBudget;
  private readonly isAlive: (pid: number) => boolean;

  constructor(
    first: RunningQueen,
    private readonly options: QueenKeeperOptions,
  ) {
    this.current = first;
    this.budget = new RestartBudget(options);
    this.isAlive = options.isAlive ?? processRuns;
    this.schedule();
  }

  /** The queen running now (or the last one, while a restart waits). */
  get queen(): LocalQueen {
    return this.current.queen;
  }

  /** Stops the queen and starts none again; safe to call twice. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.restarting;
    await this.current.queen.dispose();
  }

  private schedule(): void {
    this.timer = setTimeout(() => this.check(), this.options.pollMs ?? DEFAULT_POLL_MS);
  }

  private check(): void {
    if (this.stopping) return;
    const gone = this.current.pids.find((pid) => !this.isAlive(pid));
    if (gone === undefined) return this.schedule();
    const waitMs = this.budget.next();
    if (waitMs === undefined) {
      this.options.giveUp(`the queen's workerd (pid ${gone}) exited (${this.budget.spentReason}); not starting it again`);
      return;
    }
    this.options.log(`the queen's workerd (pid ${gone}) exited; starting the queen again in ${waitMs / 1000} s, on the same port and state (the hive reconnects)`);
    this.restarting = this.restart(waitMs);
  }

  private async restart(waitMs: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    if (this.stopping) return;
    await this.current.queen.dispose().catch(() => {}); // what Miniflare holds of the dead one
    try {
      this.current = await this.options.start();
    } catch (error) {
      if (!this.stopping) this.options.giveUp(`the queen did not start again: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (this.stopping) return; // stop() disposes this one once the restart is done
    this.options.log(`the queen is back on ${this.current.queen.url}`);
    this.schedule();
  }
}
