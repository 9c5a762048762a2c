// The worker's OpenAI-style HTTP API as a Hono app (GET /health, POST /v1/chat/completions,
// /v1/chat/completions/input_tokens, /v1/completions, /v1/embeddings and /v1/rerank): its hive's secret and a loopback Host on every route
// (./access-guard.ts), routing, a JSON content type and the body cap, refusing work while the
// model loads or the worker drains, and errors in OpenAI's shape. WorkerServer serves it on
// 127.0.0.1 from before the model loads; tests call it through app.request.
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { RbeeError } from "../shared/errors.js";
import { limitBodySize } from "../shared/http/json-body.js";
import type { LogFn } from "../shared/log/json-log.js";
import { REQUEST_ID_HEADER } from "../shared/openai/inference-headers.js";
import { INPUT_TOKENS_PATH } from "../shared/protocol/hive-frames.js";
import type { WorkerState } from "../shared/protocol/worker-heartbeat.js";
import type { Engine } from "./engine.js";
import { chatCompletions } from "./routes/chat-completions.js";
import { chatInputTokens } from "./routes/chat-input-tokens.js";
import { completions } from "./routes/completions.js";
import { guardWorkerAccess, requireJson } from "./access-guard.js";
import { embeddings } from "./routes/embeddings.js";
import { rerank } from "./routes/rerank.js";
import type { RouteContext, RouteHandler } from "./routes/route-context.js";
import { meteredEngine, requestLog } from "./request-log.js";

/** Largest request body the worker accepts, in bytes (1 MiB: far beyond any prompt that fits a context). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** What the routes use of a loaded engine. */
export type ApiEngine = RouteContext["engine"] & Pick<Engine, "slotsTotal" | "slotsBusy" | "queueLength">;

/** Seconds a client refused while the model loads should wait: loads take seconds to minutes. */
const LOADING_RETRY_AFTER_SECONDS = 2;

export interface WorkerApiOptions {
  /** The loaded engine; undefined while the model loads, when the model routes answer 503 `loading`. */
  engine: () => ApiEngine | undefined;
  /** How much of the model is loaded, 0..1, for /health and the `loading` refusal. */
  loadProgress: () => number;
  /** The model name echoed in responses, whatever name the request used. */
  modelName: string;
  workerId: string;
  /** The loopback port it serves on: a request's Host must name it. */
  port: number;
  /** What its hive sends as `Authorization: Bearer …` (shared/protocol/worker-launch.ts WORKER_SECRET_ENV). */
  secret: string;
  state: () => WorkerState;
  /** Lifecycle lines, and one line per model request (./request-log.ts). */
  log: LogFn;
  /** True once the worker drains: the model routes then answer 503. */
  draining: () => boolean;
}

/** The POST routes that run the model; each is refused with 503 while the model loads and once the worker drains. */
const MODEL_ROUTES: ReadonlyMap<string, RouteHandler> = new Map([
  ["/v1/chat/completions", chatCompletions],
  [INPUT_TOKENS_PATH, chatInputTokens],
  ["/v1/completions", completions],
  ["/v1/embeddings", embeddings],
  ["/v1/rerank", rerank],
]);

export function createWorkerApi(options: WorkerApiOptions): Hono {
  const { engine, loadProgress, modelName, workerId, state, log, draining } = options;
  /**
   * Errors meant for clients pass through; anything else is logged here, under the request id its
   * hive sent (X-Request-Id: the queen's relay id), and leaves as a bare 500.
   */
  const clientError = (error: unknown, c: Context): RbeeError => {
    if (error instanceof RbeeError) return error;
    const requestId = c.req.header(REQUEST_ID_HEADER) ?? "(no id)";
    log(`request ${requestId} ${c.req.path} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return new RbeeError(500, "internal_error", "The worker failed to handle the request");
  };
  const routeContext = (c: Context): RouteContext => {
    const loaded = engine();
    if (!loaded) throw new Error("a model route ran before the model was loaded");
    return { engine: meteredEngine(loaded, c), modelName, clientError: (error) => clientError(error, c) };
  };
  const refuseUnlessServing: MiddlewareHandler = async (_c, next) => {
    if (draining()) throw new RbeeError(503, "worker_draining", "The worker is shutting down; retry elsewhere", { retryAfterSeconds: 1 });
    if (!engine()) return loadingRefusal(loadProgress());
    await next();
  };
  const bodyCap = limitBodySize(MAX_BODY_BYTES);

  const app = new Hono();
  app.use(guardWorkerAccess({ secret: options.secret, port: options.port }));
  app.get("/health", (c) => {
    const loaded = engine();
    return c.json({
      status: state(),
      model: modelName,
      workerId,
      slotsTotal: loaded?.slotsTotal ?? 0,
      slotsBusy: loaded?.slotsBusy ?? 0,
      queueLength: loaded?.queueLength ?? 0,
      ...(loaded ? {} : { loadProgress: loadProgress() }),
    });
  });
  app.all("/health", (c) => methodNotAllowed(c, "GET"));
  for (const [path, handler] of MODEL_ROUTES) {
    app.post(path, requestLog(log), requireJson, refuseUnlessServing, bodyCap, (c) => handler(c, routeContext(c)));
    app.all(path, (c) => methodNotAllowed(c, "POST"));
  }
  app.notFound((c) => new RbeeError(404, "not_found", `No route for ${c.req.method} ${c.req.path}`).toResponse());
  app.onError((error, c) => clientError(error, c).toResponse());
  return app;
}

/**
 * 503 `loading`, as llama-server answers while it loads, with the fraction loaded (0..1) as
 * `error.load_progress` beside OpenAI's fields, so a client or the queen can tell a slow load
 * from a stuck one.
 */
function loadingRefusal(progress: number): Response {
  const percent = Math.floor(progress * 100);
  const error = new RbeeError(503, "loading", `The worker is still loading its model (${percent}% loaded); retry shortly`, {
    retryAfterSeconds: LOADING_RETRY_AFTER_SECONDS,
  });
  const body = error.toBody();
  return Response.json(
    { error: { ...body.error, load_progress: progress } },
    { status: error.status, headers: { "retry-after": String(LOADING_RETRY_AFTER_SECONDS) } },
  );
}

function methodNotAllowed(c: Context, allowed: string): Response {
  const response = new RbeeError(405, "method_not_allowed", `${c.req.method} is not allowed here; use ${allowed}`).toResponse();
  response.headers.set("allow", allowed);
  return response;
}
