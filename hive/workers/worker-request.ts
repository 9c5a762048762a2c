// The hive's HTTP request to a worker on this machine's loopback, on node:http with kept-alive
// connections rather than fetch: undici's fetch and its web streams cost the hive ~0.5 ms more
// CPU per request and more per chunk read (measured client and server in one process), and every
// millisecond of the hive's CPU is taken from the worker's generation on a small machine.
import { Agent, type IncomingMessage, request } from "node:http";

/**
 * Idle connections are closed after this long, before the worker's server closes them (Node's
 * keepAliveTimeout, 5 s): a request sent on a connection the server is closing fails.
 */
const IDLE_SOCKET_MS = 4000;

const agent = new Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS });

export interface WorkerRequest {
  port: number;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * POSTs `worker.body` and resolves with the response once its head arrived; the body is left to
 * the caller to read (or to destroy). `signal` aborts both the request and a response being read.
 * A request on a kept-alive connection that the worker closed just as it was reused is sent again
 * once on a new connection: nothing reached the worker.
 */
export async function requestWorker(worker: WorkerRequest, signal: AbortSignal): Promise<IncomingMessage> {
  try {
    return await postOnce(worker, signal);
  } catch (error) {
    if (!(error instanceof StaleConnectionError)) throw error;
    return postOnce(worker, signal);
  }
}

/** The kept-alive connection a request went out on was already closed by the worker. */
class StaleConnectionError extends Error {}

function postOnce(worker: WorkerRequest, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(worker.body, "utf8");
    const outgoing = request(
      {
        host: "127.0.0.1",
        port: worker.port,
        path: worker.path,
        method: "POST",
        agent,
        signal,
        headers: { ...worker.headers, "content-length": String(body.byteLength) },
      },
      resolve,
    );
    outgoing.on("error", (error: NodeJS.ErrnoException) => {
      const stale = outgoing.reusedSocket && (error.code === "ECONNRESET" || error.code === "EPIPE") && !signal.aborted;
      reject(stale ? new StaleConnectionError(error.message) : error);
    });
    outgoing.end(body);
  });
}
