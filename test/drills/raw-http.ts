// Sends one HTTP/1.1 request as raw bytes over a TCP socket to 127.0.0.1 and reads back only the
// status, for the client fuzz drill: fetch and http.request refuse odd methods, invalid UTF-8
// and oversized headers before they leave, and the drill needs them to reach the queen.
import { connect } from "node:net";

export interface RawRequest {
  method: string;
  /** The request target as bytes go on the wire (may hold %00, ../ and invalid UTF-8). */
  target: Uint8Array | string;
  headers: [string, Uint8Array | string][];
  body: Uint8Array;
}

/** The response's status, "closed" when the server hung up without one, "timeout" when it never answered. */
export type RawOutcome = number | "closed" | "timeout";

export function sendRaw(port: number, request: RawRequest, timeoutMs: number): Promise<RawOutcome> {
  const head: Buffer[] = [Buffer.from(`${request.method} `), Buffer.from(request.target), Buffer.from(" HTTP/1.1\r\n")];
  const headers: [string, Uint8Array | string][] = [
    ["host", `127.0.0.1:${port}`],
    ["connection", "close"],
    ["content-length", String(request.body.length)],
    ...request.headers,
  ];
  for (const [name, value] of headers) head.push(Buffer.from(`${name}: `), Buffer.from(value), Buffer.from("\r\n"));
  head.push(Buffer.from("\r\n"));
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    let settled = false;
    const settle = (outcome: RawOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle("timeout"), timeoutMs);
    socket.on("error", () => settle("closed"));
    socket.on("close", () => settle("closed"));
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      // The status line is all we need: a stream (SSE) behind it may never end.
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      if (status?.[1]) settle(Number(status[1]));
      else if (received.includes("\r\n")) settle("closed");
    });
    socket.write(Buffer.concat([...head, Buffer.from(request.body)]));
  });
}
