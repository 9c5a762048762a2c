// The worker's OpenAI-style HTTP API as a Hono app (GET /health, POST /v1/chat/completions,
// /v1/completions and /v1/embeddings): its hive's secret and a loopback Host on every route
// (./access-guard.ts), routing, a JSON content type and the body cap, refusing work while
// draining, and errors in OpenAI's shape. WorkerServer serves it on 127.0.0.1; tests call it through app.request.
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { RbeeError } from "../shared/errors.js";
import { limitBodySize } from "../shared/http/json-body.js";
import type { WorkerState } from "../shared/protocol/worker-heartbeat.js";
import type { Engine } from "./engine.js";
import { chatCompletions } from "./routes/chat-completions.js";
import { completions } from "./routes/completions.js";
import { guardWorkerAccess, requireJson } from "./access-guard.js";
import { embeddings } from "./routes/embeddings.js";
import type { RouteContext, RouteHandler } from "./routes/route-context.js";

/** Largest request body the worker accepts, in bytes (1 MiB: far beyond any prompt that fits a context). */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface WorkerApiOptions {
  engine: RouteContext["engine"] & Pick<Engine, "slotsTotal" | "slotsBusy" | "queueLength">;
  /** The model name echoed in responses, whatever name the request used. */
  modelName: string;
  workerId: string;
  /** The loopback port it serves on: a request's Host must name it. */
  port: number;
  /** What its hive sends as `Authorization: Bearer …` (shared/protocol/worker-launch.ts WORKER_SECRET_ENV). */
  secret: string;
  state: () => WorkerState;
  log: (message: string) => void;
  /** True once the worker drains: the model routes then answer 503. */
  draining: () => boolean;
}

/** The POST routes that run the model; each is refused with 503 once the worker drains. */
const MODEL_ROUTES: ReadonlyMap<string, RouteHandler> = new Map([
  ["/v1/chat/completions", chatCompletions],
  ["/v1/completions", completions],
  ["/v1/embeddings", embeddings],
]);

export function createWorkerApi(options: WorkerApiOptions): Hono {
  const { engine, modelName, workerId, state, log, draining } = options;
  /** Errors meant for clients pass through; anything else is logged here and leaves as a bare 500. */
  const clientError = (error: unknown): RbeeError => {
    if (error instanceof RbeeError) return error;
    log(`request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return new RbeeError(500, "internal_error", "The worker failed to handle the request");
  };
  const routeContext: RouteContext = { engine, modelName, clientError };
  const refuseWhileDraining: MiddlewareHandler = async (_c, next) => {
    if (draining()) throw new RbeeError(503, "worker_draining", "The worker is shutting down; retry elsewhere", { retryAfterSeconds: 1 });
    await next();
  };
  const bodyCap = limitBodySize(MAX_BODY_BYTES);

  const app = new Hono();
  app.use(guardWorkerAccess({ secret: options.secret, port: options.port }));
  app.get("/health", (c) =>
    c.json({
      status: state(),
      model: modelName,
      workerId,
      slotsTotal: engine.slotsTotal,
      slotsBusy: engine.slotsBusy,
      queueLength: engine.queueLength,
    }),
  );
  app.all("/health", (c) => methodNotAllowed(c, "GET"));
  for (const [path, handler] of MODEL_ROUTES) {
    app.post(path, requireJson, refuseWhileDraining, bodyCap, (c) => handler(c, routeContext));
    app.all(path, (c) => methodNotAllowed(c, "POST"));
  }
  app.notFound((c) => new RbeeError(404, "not_found", `No route for ${c.req.method} ${c.req.path}`).toResponse());
  app.onError((error) => clientError(error).toResponse());
  return app;
}

function methodNotAllowed(c: Context, allowed: string): Response {
  const response = new RbeeError(405, "method_not_allowed", `${c.req.method} is not allowed here; use ${allowed}`).toResponse();
  response.headers.set("allow", allowed);
  return response;
}
