// The two lines a worker prints on stdout, and the readers its supervisors (the hive, the tests,
// the bench) wait on instead of polling the port: `{"event":"listening","port":N}` once it
// accepts connections, which is before it loads its model (requests get 503 `loading` until
// then), and `{"event":"ready","port":N}` once the model is loaded and it serves.

/** What a worker's stdout line announces. */
export type WorkerEvent = "listening" | "ready";

export function listeningLine(port: number): string {
  return JSON.stringify({ event: "listening", port });
}

export function readyLine(port: number): string {
  return JSON.stringify({ event: "ready", port });
}

/**
 * Resolves with the port once `stdout` carries the listening line. Never rejects: callers race
 * it with the process's exit, which is the only way the line can fail to come.
 */
export function waitForListeningLine(stdout: NodeJS.ReadableStream): Promise<number> {
  return waitForEvent(stdout, "listening");
}

/** Like waitForListeningLine, for the line that says the model is loaded and the worker serves. */
export function waitForReadyLine(stdout: NodeJS.ReadableStream): Promise<number> {
  return waitForEvent(stdout, "ready");
}

function waitForEvent(stdout: NodeJS.ReadableStream, event: WorkerEvent): Promise<number> {
  return new Promise((resolve) => {
    let partial = "";
    const onData = (chunk: Buffer | string): void => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        const port = portOf(line, event);
        if (port === undefined) continue;
        stdout.off("data", onData);
        resolve(port);
        return;
      }
    };
    stdout.on("data", onData);
  });
}

/** The port from the first listening line in `text` (e.g. a worker's log file), if any. */
export function listeningPortIn(text: string): number | undefined {
  for (const line of text.split("\n")) {
    const port = portOf(line, "listening");
    if (port !== undefined) return port;
  }
  return undefined;
}

function portOf(line: string, event: WorkerEvent): number | undefined {
  if (!line.startsWith(`{"event":"${event}"`)) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    const port = (parsed as { port?: unknown }).port;
    return typeof port === "number" ? port : undefined;
  } catch {
    return undefined;
  }
}
