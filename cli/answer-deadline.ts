// The time one request of the `rbee` CLI gives the queen to answer. QueenApi starts it before
// the request and ends it once the answer is in: after the head for a stream (a chat answer or a
// job's events may run for minutes once begun), after the whole body for a JSON answer.

export class AnswerDeadline {
  private readonly timeout = new AbortController();
  private readonly timer: NodeJS.Timeout;
  /** Aborts the request at the deadline, or when the caller's own signal aborts (Ctrl-C). */
  readonly signal: AbortSignal;

  constructor(
    readonly timeoutMs: number,
    callerSignal?: AbortSignal,
  ) {
    this.timer = setTimeout(() => this.timeout.abort(), timeoutMs);
    this.signal = callerSignal === undefined ? this.timeout.signal : AbortSignal.any([callerSignal, this.timeout.signal]);
  }

  /** Whether the deadline passed (as opposed to the caller aborting). */
  get expired(): boolean {
    return this.timeout.signal.aborted;
  }

  /** The answer is in: the request may now take as long as it takes. Safe to call twice. */
  end(): void {
    clearTimeout(this.timer);
  }
}
