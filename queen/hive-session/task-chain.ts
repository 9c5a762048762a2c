// Runs async tasks one at a time, in the order they were added: HiveSession forwards a hive's job
// events through one, so a later event never overtakes an earlier one while it awaits a
// JobSession. A task that fails is logged and the chain goes on: one bad event must not
// silently drop every later event of the hive.

export class TaskChain {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly onError: (error: unknown) => void) {}

  /** Adds `task` after every task added before; resolves when it ran (failed or not), never rejects. */
  run(task: () => Promise<void>): Promise<void> {
    this.tail = this.tail.then(task).catch((error: unknown) => {
      this.onError(error);
    });
    return this.tail;
  }

  /** Resolves once every task added so far has run. */
  idle(): Promise<void> {
    return this.tail;
  }
}
