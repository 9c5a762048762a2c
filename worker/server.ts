// The worker's OpenAI-style HTTP API on 127.0.0.1 (GET /health, POST /v1/chat/completions,
// /v1/completions and /v1/embeddings), which the hive forwards requests to; it drains in-flight
// requests when the worker shuts down. The routes themselves live in ./routes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { RbeeError } from "../shared/errors.js";
import type { WorkerState } from "../shared/protocol/worker-heartbeat.js";
import type { Engine } from "./engine.js";
import { MAX_BODY_BYTES } from "./http-body.js";
import { chatCompletions } from "./routes/chat-completions.js";
import { completions } from "./routes/completions.js";
import { embeddings } from "./routes/embeddings.js";
import { sendJson, type RouteContext, type RouteHandler } from "./routes/route-context.js";

export interface WorkerServerOptions {
  engine: RouteContext["engine"] & Pick<Engine, "slotsTotal" | "slotsBusy" | "queueLength">;
  /** The model name echoed in responses, whatever name the request used. */
  modelName: string;
  workerId: string;
  state: () => WorkerState;
  log: (message: string) => void;
}

/** The POST routes that run the model; each is refused with 503 once the worker drains. */
const MODEL_ROUTES: ReadonlyMap<string, RouteHandler> = new Map([
  ["/v1/chat/completions", chatCompletions],
  ["/v1/completions", completions],
  ["/v1/embeddings", embeddings],
]);

export class WorkerServer {
  private readonly server: Server;
  private readonly routeContext: RouteContext;
  private inFlight = 0;
  private draining = false;
  private onIdle: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: WorkerServerOptions) {
    this.routeContext = {
      engine: options.engine,
      modelName: options.modelName,
      clientError: (error) => this.toClientError(error),
    };
    this.server = createServer((request, response) => this.onRequest(request, response));
    // Clients such as curl ask before uploading a large body ("Expect: 100-continue"); Node would
    // say yes to everything, so a body declared too large is refused before a byte of it is sent.
    this.server.on("checkContinue", (request, response) => {
      if (Number(request.headers["content-length"] ?? 0) <= MAX_BODY_BYTES) response.writeContinue();
      this.onRequest(request, response);
    });
  }

  /** Listens on 127.0.0.1 only: the hive is the one client, and the API has no auth of its own. */
  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts the rest. Safe to call twice. */
  close(graceMs: number): Promise<void> {
    this.closing ??= this.drain(graceMs);
    return this.closing;
  }

  private async drain(graceMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        new Promise<boolean>((resolve) => (this.onIdle = () => resolve(true))),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
      ]);
      clearTimeout(timer);
      if (!finished) this.options.log(`${this.inFlight} request(s) still running after ${graceMs} ms; cutting them off`);
    }
    // Closing the sockets of unfinished responses aborts their generations through the 'close' handlers.
    this.server.closeAllConnections();
    await closed;
  }

  private onRequest(request: IncomingMessage, response: ServerResponse): void {
    this.inFlight++;
    response.once("close", () => {
      this.inFlight--;
      if (this.inFlight === 0 && this.onIdle) this.onIdle();
    });
    // Sockets kept alive would hold the server open after the last response.
    if (this.draining) response.setHeader("connection", "close");
    this.route(request, response).catch((error: unknown) => this.sendError(request, response, error));
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    if (path === "/health") {
      allowOnly("GET", request, response);
      return sendJson(response, 200, this.health());
    }
    const handler = MODEL_ROUTES.get(path);
    if (handler === undefined) throw new RbeeError(404, "not_found", `No route for ${request.method ?? "?"} ${path}`);
    allowOnly("POST", request, response);
    if (this.draining) {
      throw new RbeeError(503, "worker_draining", "The worker is shutting down; retry elsewhere", { retryAfterSeconds: 1 });
    }
    return handler(request, response, this.routeContext);
  }

  private health() {
    const { engine, modelName, workerId, state } = this.options;
    return {
      status: state(),
      model: modelName,
      workerId,
      slotsTotal: engine.slotsTotal,
      slotsBusy: engine.slotsBusy,
      queueLength: engine.queueLength,
    };
  }

  private sendError(request: IncomingMessage, response: ServerResponse, error: unknown): void {
    const clientError = this.toClientError(error);
    if (response.headersSent) {
      response.destroy();
      return;
    }
    // A body left unread (413, or an early 404/405) would otherwise be read to its end just to keep the socket.
    if (!request.complete) response.setHeader("connection", "close");
    if (clientError.retryAfterSeconds !== undefined) response.setHeader("retry-after", String(clientError.retryAfterSeconds));
    sendJson(response, clientError.status, clientError.toBody());
  }

  /** Errors meant for clients pass through; anything else is logged here and leaves as a bare 500. */
  private toClientError(error: unknown): RbeeError {
    if (error instanceof RbeeError) return error;
    this.options.log(`request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return new RbeeError(500, "internal_error", "The worker failed to handle the request");
  }
}

function allowOnly(method: string, request: IncomingMessage, response: ServerResponse): void {
  if (request.method === method) return;
  response.setHeader("allow", method);
  throw new RbeeError(405, "method_not_allowed", `${request.method ?? "?"} is not allowed here; use ${method}`);
}
