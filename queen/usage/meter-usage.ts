// Hono middleware for the inference routes: counts each request, and the tokens its response
// reports, for the API key that made it. The count is written with ctx.waitUntil once the
// response body has passed through, never on the response's critical path, and in batches
// (record-usage.ts). A stream is counted by the one stage that relays it (streams/spliced-stream.ts
// tells the request's StreamMeter, stream-meter.ts, of each chunk): a JavaScript stream over a
// body costs workerd CPU for every chunk, and that stage parses each event already. A JSON answer
// built from one that came back whole (the variable `wholeAnswer`) is read whole, and goes out
// with its Content-Length rather than in chunks; any other JSON body is watched as it passes
// (observe-usage.ts). What the meter saw (status, tokens, first byte, why a body was cut short)
// also feeds the key's token limits, the metrics and the request's log line
// (observability/inference-outcome.ts), so no answer is read twice. A stream's head names its prompt's tokens (PROMPT_TOKENS_HEADER, from the
// worker): they count when the client leaves before the usage chunk, and the header goes no further.
// Whatever the answer says, no more is counted than its request allows (usage-ceiling.ts).
import { createMiddleware } from "hono/factory";
import { PROMPT_TOKENS_HEADER, promptTokensOf } from "../../shared/openai/inference-headers.js";
import type { QueenEnv } from "../env.js";
import { inferenceOutcome } from "../observability/inference-outcome.js";
import { observeJsonUsage } from "./observe-usage.js";
import { recordUsage, utcDay } from "./record-usage.js";
import { StreamMeter } from "./stream-meter.js";
import { NO_TOKENS, type TokenUsage, usageOfJson } from "./token-usage.js";
import { withinCeiling } from "./usage-ceiling.js";

export const meterUsage = createMiddleware<QueenEnv>(async (c, next) => {
  // The day the request arrived: a stream that runs past midnight counts for the day it began.
  const arrivedAtMs = Date.now();
  const day = utcDay(new Date(arrivedAtMs));
  const streamMeter = new StreamMeter();
  c.set("streamMeter", streamMeter);
  await next();
  const keyId = c.get("apiKey").id;
  const response = c.res;
  const kind = response.ok && response.body ? bodyKind(response.headers.get("content-type")) : undefined;
  let usage: Promise<TokenUsage> = Promise.resolve(NO_TOKENS);
  let firstChunkAtMs: () => number | undefined = () => undefined;
  let cut: () => string | undefined = () => undefined;
  if (kind === "json" && response.body && c.get("wholeAnswer")) {
    const text = await response.text();
    const readAtMs = Date.now();
    usage = Promise.resolve(usageOfJson(text) ?? NO_TOKENS);
    firstChunkAtMs = () => readAtMs;
    c.res = new Response(text, { status: response.status, headers: response.headers });
  } else if (kind === "sse") {
    usage = streamMeter.usage(promptTokensOf(response.headers));
    firstChunkAtMs = () => streamMeter.firstChunkAtMs;
    cut = () => streamMeter.cut;
  } else if (kind === "json" && response.body) {
    const observed = observeJsonUsage(response.body);
    usage = observed.usage;
    firstChunkAtMs = observed.firstChunkAtMs;
    cut = observed.cut;
    // Same status and headers; only the body is the observed copy of the same bytes. The status
    // text is left to workerd (a relayed answer has none, and an empty one reads "HTTP/1.1 200 ").
    c.res = new Response(observed.body, { status: response.status, headers: response.headers });
  }
  // After the assignment: Hono copies the headers of the response it replaces into the new one.
  if (c.res.headers.has(PROMPT_TOKENS_HEADER)) c.res.headers.delete(PROMPT_TOKENS_HEADER);
  const waitUntil = (promise: Promise<unknown>) => c.executionCtx.waitUntil(promise);
  // The usage promise never rejects (observe-usage.ts, and the stage relaying a stream, settle it
  // however the body ends). It settles as workerd reads the body's end, before workerd writes the
  // answer's last bytes: what it starts waits for a timer's turn, so the request's log line (a
  // write to a pipe, locally) goes after the answer rather than ~1 ms in front of it.
  const ceiling = c.get("usageCeiling");
  const settled = usage.then((tokens) => nextTurn().then(() => withinCeiling(tokens, ceiling)));
  waitUntil(settled.then((tokens) => recordUsage(c.env.DB, waitUntil, keyId, day, tokens)));
  waitUntil(settled.then((tokens) => inferenceOutcome(c, { arrivedAtMs, status: response.status, tokens, firstChunkAtMs: firstChunkAtMs(), cut: cut() })));
});

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function bodyKind(contentType: string | null): "json" | "sse" | undefined {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  if (type === "text/event-stream") return "sse";
  if (type === "application/json") return "json";
  return undefined;
}
