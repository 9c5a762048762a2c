// The queen's Cron Trigger for a local queen. On Cloudflare, wrangler.toml's `crons` runs the
// queen's scheduled handler daily (queen/index.ts: retention of old jobs, worker history and usage
// rows, and unfinished jobs expired); Miniflare runs no cron by itself, so a local cloud left running
// for weeks would keep every row. This runs the same handler a minute after the queen starts and
// then every day, as long as it runs.
import type { Miniflare } from "miniflare";

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface LocalCron {
  stop(): void;
}

/** Runs `workerName`'s scheduled handler after `firstAfterMs`, then every `everyMs`; a failure is logged and the next run comes as usual. */
export function startLocalCron(miniflare: Miniflare, workerName: string, cron: string, options: { firstAfterMs: number; everyMs: number }): LocalCron {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const runAfter = (ms: number) => {
    timer = setTimeout(() => void run(), ms);
    timer.unref(); // it never keeps the process alive by itself
  };
  const run = async () => {
    try {
      const worker = await miniflare.getWorker(workerName);
      await worker.scheduled({ cron, scheduledTime: new Date() });
    } catch (error) {
      if (!stopped) console.error(`the queen's daily run (${cron}) failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!stopped) runAfter(options.everyMs);
  };
  runAfter(options.firstAfterMs);
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
