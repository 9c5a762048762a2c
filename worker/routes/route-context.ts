// What every API route of the worker's HTTP server gets to work with, and what a route answers
// a client that already left.
import type { Context } from "hono";
import type { RbeeError } from "../../shared/errors.js";
import type { Engine } from "../engine.js";

export interface RouteContext {
  engine: Pick<Engine, "chat" | "countChatTokens" | "complete" | "embed" | "embeddingSize" | "rank" | "canRank">;
  /** The model name echoed in responses, whatever name the request used. */
  modelName: string;
  /** The client-facing form of any error, for errors found after a stream has started. */
  clientError: (error: unknown) => RbeeError;
}

export type RouteHandler = (c: Context, context: RouteContext) => Promise<Response>;

/**
 * The request's signal aborts when the client hangs up before the response is finished, even
 * mid-generation (@hono/node-server aborts it when the response closes unfinished), which stops
 * generation and frees the slot at once.
 */
export function clientGoneSignal(c: Context): AbortSignal {
  return c.req.raw.signal;
}

/** The answer to a client that hung up: its connection is gone, so nothing of this is sent. */
export function nobodyListening(c: Context): Response {
  return c.body(null);
}
