// Keeps `npm start`'s hive running once the cloud is up. A hive that exits while npm start runs
// (killed, crashed, out of memory) is started again, as a service manager's restart-on-failure
// would: its workers run detached, so they outlive it, and the new hive finds them and they
// re-attach with their models loaded. Meanwhile the queen holds requests for the hive's models
// (it waits for a hive that dropped off to come back). A hive that keeps exiting is given up
// rather than restarted in a loop: npm start then says why and stops. So is, at once, a hive the
// queen refused (its token revoked or rotated): a restart would present the same token, and the
// queen is not down but saying no.
import type { HiveExit, HiveProcess } from "./hive-process.js";
import { RestartBudget, type RestartBudgetOptions } from "./restart-budget.js";

export interface HiveKeeperOptions extends RestartBudgetOptions {
  /** Starts a hive like the first one. */
  start: () => HiveProcess;
  /** A line for npm start's output. */
  log: (line: string) => void;
  /** The hive exited once too often: npm start stops, saying `reason`. */
  giveUp: (reason: string) => void;
}

export class HiveKeeper {
  private current: HiveProcess;
  private stopping = false;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly budget: RestartBudget;

  constructor(
    first: HiveProcess,
    private readonly options: HiveKeeperOptions,
  ) {
    this.current = first;
    this.budget = new RestartBudget(options);
    this.watch(first);
  }

  /** The hive running now (or the last one, while a restart waits). */
  get hive(): HiveProcess {
    return this.current;
  }

  /** Stops the hive and starts none again; safe to call twice. */
  stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    return this.current.stop();
  }

  private watch(hive: HiveProcess): void {
    void hive.exited.then((exit) => this.onExit(hive, exit));
  }

  private onExit(hive: HiveProcess, exit: HiveExit): void {
    if (this.stopping || hive !== this.current) return;
    if (exit.refused !== undefined) {
      // Not issued a new token here: an admin revoked it (or gave the name a new one), and the
      // next npm start, which its user runs on purpose, registers the hive afresh.
      this.options.giveUp(
        `the queen refused the hive (${exit.refused}), so it stopped; starting it again with the same token would be refused too. ` +
          "npm start registers its hive afresh on every start: run it again to serve with a new token",
      );
      return;
    }
    const how = exit.signal ? `killed by ${exit.signal}` : `with exit status ${exit.exitCode ?? "unknown"}`;
    const waitMs = this.budget.next();
    if (waitMs === undefined) {
      this.options.giveUp(`the hive exited ${how} (${this.budget.spentReason}); not starting it again`);
      return;
    }
    this.options.log(`the hive (pid ${hive.pid}) exited ${how}; starting it again in ${waitMs / 1000} s (its workers re-attach)`);
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.current = this.options.start();
      this.watch(this.current);
    }, waitMs);
  }
}
