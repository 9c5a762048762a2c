// The worker's OpenAI-style HTTP API on 127.0.0.1 (GET /health, POST /v1/chat/completions), which
// the hive forwards requests to; it drains in-flight requests when the worker shuts down.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { RbeeError } from "../shared/errors.js";
import { ChatCompletionRequest } from "../shared/openai/chat-request.js";
import type { WorkerState } from "../shared/protocol/worker-heartbeat.js";
import { parseRequest } from "../shared/validation.js";
import {
  chatCompletion,
  chatCompletionChunk,
  newCompletionIdentity,
  usageChunk,
  type CompletionIdentity,
} from "./chat-completion-shapes.js";
import type { Completion, Engine } from "./engine.js";
import { MAX_BODY_BYTES, readJsonBody } from "./http-body.js";

export interface WorkerServerOptions {
  engine: Pick<Engine, "complete" | "slotsTotal" | "slotsBusy">;
  /** The model name echoed in responses, whatever name the request used. */
  modelName: string;
  workerId: string;
  state: () => WorkerState;
  log: (message: string) => void;
}

export class WorkerServer {
  private readonly server: Server;
  private inFlight = 0;
  private draining = false;
  private onIdle: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: WorkerServerOptions) {
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
    const path = (request.url ?? "/").split("?")[0];
    switch (path) {
      case "/health":
        allowOnly("GET", request, response);
        return sendJson(response, 200, this.health());
      case "/v1/chat/completions":
        allowOnly("POST", request, response);
        return this.chatCompletions(request, response);
      default:
        throw new RbeeError(404, "not_found", `No route for ${request.method ?? "?"} ${path ?? "/"}`);
    }
  }

  private health() {
    const { engine, modelName, workerId, state } = this.options;
    return { status: state(), model: modelName, workerId, slotsTotal: engine.slotsTotal, slotsBusy: engine.slotsBusy };
  }

  private async chatCompletions(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (this.draining) {
      throw new RbeeError(503, "worker_draining", "The worker is shutting down; retry elsewhere", { retryAfterSeconds: 1 });
    }
    const chatRequest = parseRequest(ChatCompletionRequest, await readJsonBody(request));
    const abort = new AbortController();
    // 'close' fires when the client hangs up, even mid-generation; a finished response sets
    // writableFinished first, so only a real disconnect aborts (and frees the slot at once).
    response.once("close", () => {
      if (!response.writableFinished) abort.abort(new Error("client disconnected"));
    });
    const identity = newCompletionIdentity(this.options.modelName);
    if (chatRequest.stream) return this.streamCompletion(response, chatRequest, identity, abort.signal);

    const completion = await this.options.engine.complete(chatRequest, { signal: abort.signal });
    if (completion.finishReason === "abort") return;
    sendJson(response, 200, chatCompletion(identity, completion.text, completion.finishReason, completion.usage));
  }

  /**
   * Server-sent events. Headers go out with the first token rather than at once, so an error found
   * before generating (such as context overflow) still gets its proper status code.
   */
  private async streamCompletion(
    response: ServerResponse,
    request: ChatCompletionRequest,
    identity: CompletionIdentity,
    signal: AbortSignal,
  ): Promise<void> {
    // Writes are not awaited: one completion is bounded by the context size, so a slow reader
    // can only make Node buffer a few kilobytes, never unbounded memory.
    const send = (payload: unknown): void => {
      response.write(`data: ${JSON.stringify(payload)}\n\n`);
    };
    const start = (): void => {
      if (response.headersSent) return;
      response.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        // Tells proxies such as nginx not to hold tokens back in a buffer.
        "x-accel-buffering": "no",
      });
      send(chatCompletionChunk(identity, { role: "assistant", content: "" }, null));
    };

    let completion: Completion;
    try {
      completion = await this.options.engine.complete(request, {
        signal,
        onTextChunk: (text) => {
          if (text === "") return;
          start();
          send(chatCompletionChunk(identity, { content: text }, null));
        },
      });
    } catch (error) {
      if (!response.headersSent) throw error;
      // Too late for a status code: the error goes as a last event, as OpenAI does mid-stream.
      send(this.toClientError(error).toBody());
      response.end();
      return;
    }
    if (completion.finishReason === "abort") return;
    start();
    send(chatCompletionChunk(identity, {}, completion.finishReason));
    if (request.stream_options?.include_usage) send(usageChunk(identity, completion.usage));
    response.end("data: [DONE]\n\n");
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

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
