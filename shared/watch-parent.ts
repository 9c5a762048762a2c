// Notices when the process that started this one is gone. A process killed by SIGKILL (or
// crashing in native code) cannot stop its children; they are re-parented to init or a
// subreaper, which is how they can tell. Used by `npm start` (scripts/start.ts, whose parent is
// npm) and by a hive started with RBEE_EXIT_WITH_PARENT.

/** How often the parent is looked at, ms: cheap (one getppid), and an orphan is noticed in well under a second. */
const POLL_INTERVAL_MS = 500;

/**
 * Calls `onGone` once, when this process's parent is no longer `parentPid` (default: the parent
 * it has now). Returns a function that stops watching. The timer never keeps the process alive.
 */
export function watchParent(onGone: () => void, parentPid: number = process.ppid, intervalMs = POLL_INTERVAL_MS): () => void {
  let watching = true;
  const stop = (): void => {
    watching = false;
    clearInterval(timer);
  };
  const check = (): void => {
    if (!watching || process.ppid === parentPid) return;
    stop();
    onGone();
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  // The parent may be gone already: a child started a moment before its parent was killed.
  queueMicrotask(check);
  return stop;
}
