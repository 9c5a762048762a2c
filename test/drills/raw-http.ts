// Sends one HTTP/1.1 request as raw bytes over a TCP socket to 127.0.0.1 and reads back its
// status (and, for a 5xx, the whole answer), for the client fuzz drill: fetch and http.request
// refuse odd methods, invalid UTF-8 and oversized headers before they leave, and the drill needs
// them to reach the queen.
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

export interface RawResponse {
  outcome: RawOutcome;
  /** What came back as latin1 text: the status line at least; for a 5xx its headers and body too (capped). */
  text: string;
}

/** The most of a 5xx answer kept: enough for its headers and an error body or a stack. */
const MAX_KEPT_CHARS = 16_384;

export function sendRaw(port: number, request: RawRequest, timeoutMs: number): Promise<RawResponse> {
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
    let status: number | undefined;
    let settled = false;
    const settle = (outcome: RawOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ outcome, text: received.slice(0, MAX_KEPT_CHARS) });
    };
    const timer = setTimeout(() => settle(status ?? "timeout"), timeoutMs);
    socket.on("error", () => settle(status ?? "closed"));
    socket.on("close", () => settle(status ?? "closed"));
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (status === undefined) {
        const line = /^HTTP\/1\.[01] (\d{3})/.exec(received);
        if (line?.[1]) status = Number(line[1]);
        else if (received.includes("\r\n")) return settle("closed");
      }
      // A 2xx-4xx needs only its status line (an SSE stream behind it may never end); a 5xx is
      // read to its end (the request said `connection: close`) so the drill can show its body.
      if (status !== undefined && (status < 500 || received.length >= MAX_KEPT_CHARS)) settle(status);
    });
    socket.write(Buffer.concat([...head, Buffer.from(request.body)]));
  });
}
