// One log line per model request the worker served, under the id its hive sent (X-Request-Id: the
// queen's relay id), with the route, status, tokens and how long it took; a streamed answer is
// logged when its body ends (or its client leaves), not when its headers go. Used by ./http-api.ts.
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Context, MiddlewareHandler } from "hono";
import type { LogFn } from "../shared/log/json-log.js";
import { REQUEST_ID_HEADER } from "../shared/openai/inference-headers.js";
import { withinMs } from "../shared/within.js";
import type { RouteContext } from "./routes/route-context.js";

/** Tokens one request used, as the engine reported them. */
interface TokenMeter {
  promptTokens: number | null;
  completionTokens: number | null;
  /** The generation, while it runs: a stream its client left is logged once it stops, with its tokens. */
  generating?: Promise<unknown>;
}

/** How long a line waits for a cancelled generation to stop and tell its tokens, ms. */
const SETTLE_WAIT_MS = 2000;

const meters = new WeakMap<Request, TokenMeter>();

function meterOf(c: Context): TokenMeter {
  let meter = meters.get(c.req.raw);
  if (meter === undefined) {
    meter = { promptTokens: null, completionTokens: null };
    meters.set(c.req.raw, meter);
  }
  return meter;
}

/** The engine a route gets, noting the tokens of each generation, embedding or ranking in the request's meter. */
export function meteredEngine(engine: RouteContext["engine"], c: Context): RouteContext["engine"] {
  const meter = meterOf(c);
  const note = (promptTokens: number, completionTokens: number | null) => Object.assign(meter, { promptTokens, completionTokens });
  return {
    get embeddingSize() {
      return engine.embeddingSize;
    },
    get canRank() {
      return engine.canRank;
    },
    chat: async (...args) => {
      const generating = engine.chat(...args);
      meter.generating = generating;
      const completion = await generating;
      note(completion.usage.prompt_tokens, completion.usage.completion_tokens);
      return completion;
    },
    complete: async (...args) => {
      const generating = engine.complete(...args);
      meter.generating = generating;
      const completion = await generating;
      note(completion.usage.prompt_tokens, completion.usage.completion_tokens);
      return completion;
    },
    countChatTokens: (...args) => {
      const tokens = engine.countChatTokens(...args);
      note(tokens, null);
      return tokens;
    },
    embed: async (...args) => {
      const embeddings = await engine.embed(...args);
      note(embeddings.promptTokens, null);
      return embeddings;
    },
    rank: async (...args) => {
      const ranking = await engine.rank(...args);
      note(ranking.promptTokens, null);
      return ranking;
    },
  };
}

export function requestLog(log: LogFn): MiddlewareHandler {
  return async (c, next) => {
    const startedAt = performance.now();
    await next();
    const requestId = c.req.header(REQUEST_ID_HEADER);
    const line = async (outcome: "answered" | "cancelled" | "failed") => {
      const durationMs = Math.round(performance.now() - startedAt);
      // Written after the answer's bytes: Node writes a response once this middleware returns (a
      // stream's end once its last read returns), and a log line on a pipe cost the answer ~0.5 ms
      // here when it went first.
      await nextTurn();
      const meter = meterOf(c);
      // A stream that ended early ends before its generation does: its tokens come as that stops.
      if (outcome !== "answered" && meter.generating) await withinMs(meter.generating.catch(() => undefined), SETTLE_WAIT_MS);
      log(`${c.req.method} ${c.req.path} ${c.res.status} (${outcome})`, {
        request_id: requestId,
        route: c.req.path,
        status: c.res.status,
        outcome,
        prompt_tokens: meter.promptTokens,
        completion_tokens: meter.completionTokens,
        duration_ms: durationMs,
      });
    };
    // Only an event stream's body is read here. Reading `body` turns @hono/node-server's
    // lightweight Response into a real one, and a whole answer is then written through a stream
    // reader instead of at once with its length.
    if (c.res.headers.get("content-type")?.startsWith("text/event-stream") && c.res.body !== null) {
      c.res = new Response(onBodyEnd(c.res.body, (outcome) => void line(outcome)), c.res);
      return;
    }
    void line(c.req.raw.signal.aborted ? "cancelled" : "answered");
  };
}

/** `body`, passed through unchanged, calling `ended` once it is read to its end, fails or is cancelled. */
function onBodyEnd(body: ReadableStream<Uint8Array>, ended: (outcome: "answered" | "cancelled" | "failed") => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let told = false;
  const tell = (outcome: "answered" | "cancelled" | "failed") => {
    if (told) return;
    told = true;
    ended(outcome);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          controller.close();
          tell("answered");
        } else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
        tell("failed");
      }
    },
    async cancel(reason) {
      tell("cancelled");
      await reader.cancel(reason);
    },
  });
}
