// Keeps a process whose stdout/stderr is a pipe to a reader that died (its parent, killed) from
// dying of it: Node reports a write to such a pipe as an EPIPE error on the stream, and an
// unhandled stream error ends the process — before a hive has stopped its workers, or before
// `npm start` has stopped the hive. The output has nowhere to go; the work still has to be done.
// Used by hive/cli.ts (with RBEE_EXIT_WITH_PARENT) and scripts/local-cloud/shutdown.ts.

export function ignoreBrokenOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
    });
  }
}
