// The one line a worker prints on stdout once it serves, `{"event":"listening","port":N}`, and
// the reader its supervisors (the hive, the tests, the bench) wait on instead of polling the port.

export function listeningLine(port: number): string {
  return JSON.stringify({ event: "listening", port });
}

/**
 * Resolves with the port once `stdout` carries the listening line. Never rejects: callers race
 * it with the process's exit, which is the only way the line can fail to come.
 */
export function waitForListeningLine(stdout: NodeJS.ReadableStream): Promise<number> {
  return new Promise((resolve) => {
    let partial = "";
    const onData = (chunk: Buffer | string): void => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        const port = portOf(line);
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
    const port = portOf(line);
    if (port !== undefined) return port;
  }
  return undefined;
}

function portOf(line: string): number | undefined {
  if (!line.startsWith('{"event":"listening"')) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    const port = (parsed as { port?: unknown }).port;
    return typeof port === "number" ? port : undefined;
  } catch {
    return undefined;
  }
}
