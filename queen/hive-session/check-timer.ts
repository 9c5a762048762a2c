// A timer in memory that runs a HiveSession's checks at one moment (wake-up-plan.ts): arming it
// again replaces the moment, and a run that fails is logged (the stored alarm is the backstop).
export class CheckTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private atMs: number | undefined;

  constructor(private readonly check: () => Promise<void>) {}

  /** Runs the check at `atMs` (at once when past); undefined disarms. */
  arm(atMs: number | undefined): void {
    if (atMs === this.atMs) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.atMs = atMs;
    this.timer = undefined;
    if (atMs === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.atMs = undefined;
      this.check().catch((error: unknown) => console.error("a hive session's check failed; its alarm will try again", error));
    }, Math.max(0, atMs - Date.now()));
  }
}
