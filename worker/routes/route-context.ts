// What every API route of the worker's HTTP server gets to work with, and the small helpers they
// share: JSON replies and the signal that fires when the client goes away.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RbeeError } from "../../shared/errors.js";
import type { Engine } from "../engine.js";

export interface RouteContext {
  engine: Pick<Engine, "chat" | "complete" | "embed" | "embeddingSize">;
  /** The model name echoed in responses, whatever name the request used. */
  modelName: string;
  /** The client-facing form of any error, for errors found after a stream has started. */
  clientError: (error: unknown) => RbeeError;
}

export type RouteHandler = (request: IncomingMessage, response: ServerResponse, context: RouteContext) => Promise<void>;

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/**
 * Aborts when the client hangs up before the response is finished, even mid-generation, which
 * stops generation and frees the slot at once. A finished response sets writableFinished before
 * 'close', so only a real disconnect aborts.
 */
export function clientGoneSignal(response: ServerResponse): AbortSignal {
  const abort = new AbortController();
  response.once("close", () => {
    if (!response.writableFinished) abort.abort(new Error("client disconnected"));
  });
  return abort.signal;
}
