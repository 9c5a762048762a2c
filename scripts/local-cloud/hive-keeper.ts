// Keeps `npm start`'s hive running once the cloud is up. A hive that exits while npm start runs
// (killed, crashed, out of memory) is started again, as a service manager's restart-on-failure
// would: its workers run detached, so they outlive it, and the new hive finds them and they
// re-attach with their models loaded. Meanwhile the queen holds requests for the hive's models
// (it waits for a hive that dropped off to come back). A hive that keeps exiting is given up
// rather than restarted in a loop: npm start then says why and stops.
import type { HiveExit, HiveProcess } from "./hive-process.js";

export const DEFAULTS = {
  /** Restarts allowed within `windowMs`; one more exit in that window gives up. */
  maxRestarts: 5,
  windowMs: 60_000,
  /** The wait before a restart, times the restarts within the window so far (1 s, 2 s, …). */
  delayMs: 1000,
} as const;

export interface HiveKeeperOptions {
  /** Starts a hive like the first one. */
  start: () => HiveProcess;
  /** A line for npm start's output. */
  log: (line: string) => void;
  /** The hive exited once too often: npm start stops, saying `reason`. */
  giveUp: (reason: string) => void;
  maxRestarts?: number;
  windowMs?: number;
  delayMs?: number;
}

export class HiveKeeper {
  private current: HiveProcess;
  private stopping = false;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  /** When each restart within the window happened, ms. */
  private restarts: number[] = [];

  constructor(
    first: HiveProcess,
    private readonly options: HiveKeeperOptions,
  ) {
    this.current = first;
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
    const { maxRestarts = DEFAULTS.maxRestarts, windowMs = DEFAULTS.windowMs, delayMs = DEFAULTS.delayMs } = this.options;
    const now = Date.now();
    this.restarts = this.restarts.filter((at) => now - at < windowMs);
    const how = exit.signal ? `killed by ${exit.signal}` : `with exit status ${exit.exitCode ?? "unknown"}`;
    if (this.restarts.length >= maxRestarts) {
      this.options.giveUp(`the hive exited ${how} (${maxRestarts + 1} exits within ${windowMs / 1000} s); not starting it again`);
      return;
    }
    this.restarts.push(now);
    const waitMs = delayMs * this.restarts.length;
    this.options.log(`the hive (pid ${hive.pid}) exited ${how}; starting it again in ${waitMs / 1000} s (its workers re-attach)`);
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.current = this.options.start();
      this.watch(this.current);
    }, waitMs);
  }
}
