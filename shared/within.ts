// Waiting on something, but not for ever: the value of a promise that settles in time, or
// nothing once the time is up (the promise goes on), with the timer cleared either way so that it
// keeps no event loop or isolate busy after the wait.

/** `promise`'s value if it settles within `ms` (its rejection, if it rejects by then); else undefined. */
export async function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const elapsed = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, elapsed]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
