// How often npm start starts a process of its cloud again (the hive, the queen's workerd) after it
// exited by itself: at once the first time, then after a longer wait each time within the window,
// and not at all once it exited too often within it. A process that keeps exiting is given up
// rather than restarted in a loop, and npm start says why and stops.

export const DEFAULTS = {
  /** Restarts allowed within `windowMs`; one more exit in that window gives up. */
  maxRestarts: 5,
  windowMs: 60_000,
  /** The wait before a restart, times the restarts within the window so far (1 s, 2 s, …). */
  delayMs: 1000,
} as const;

export interface RestartBudgetOptions {
  maxRestarts?: number;
  windowMs?: number;
  delayMs?: number;
}

export class RestartBudget {
  private readonly maxRestarts: number;
  private readonly windowMs: number;
  private readonly delayMs: number;
  /** When each restart within the window happened, ms. */
  private restarts: number[] = [];

  constructor(options: RestartBudgetOptions = {}) {
    this.maxRestarts = options.maxRestarts ?? DEFAULTS.maxRestarts;
    this.windowMs = options.windowMs ?? DEFAULTS.windowMs;
    this.delayMs = options.delayMs ?? DEFAULTS.delayMs;
  }

  /** After an exit: the wait before starting again, in ms, or undefined when the budget is spent. */
  next(now: number = Date.now()): number | undefined {
    this.restarts = this.restarts.filter((at) => now - at < this.windowMs);
    if (this.restarts.length >= this.maxRestarts) return undefined;
    this.restarts.push(now);
    return this.delayMs * this.restarts.length;
  }

  /** Why the budget is spent, for the giving-up message: "6 exits within 60 s". */
  get spentReason(): string {
    return `${this.maxRestarts + 1} exits within ${this.windowMs / 1000} s`;
  }
}
