// What happens once an inference request's answer is over (usage/meter-usage.ts calls it, with
// the status and tokens it already read): the tokens are charged to the key's token limits, the
// request is counted in the queen's metrics, and one JSON line is logged for it. Runs under
// ctx.waitUntil, never on the answer's path; the route notes what it learns (noteInference).
import type { Context } from "hono";
import type { QueenEnv } from "../env.js";
import { chargeTokens } from "../limits/charge-tokens.js";
import { reportRequest } from "../metrics/metrics-reporter.js";
import { NO_MODEL } from "../metrics/request-metrics.js";
import { parseModelTarget } from "../scheduling/model-target.js";
import type { TokenUsage } from "../usage/token-usage.js";

/** What the inference route learnt about a request: the model after aliases, and who served it. */
export interface InferenceFacts {
  /** The model asked for, after alias resolution (a `model@hive` pin included). */
  model: string;
  /** The hive and worker that answered last (after a failover mid-answer, the one that finished it). */
  hive?: string;
  worker?: string;
  /**
   * Every relay that answered part of it, first to last: the ids the hives' and the workers' log
   * lines name. One, unless a worker was lost mid-answer and another went on (or a relay failed
   * before its first byte and another worker answered, under an id of its own).
   */
  relayIds?: string[];
  /** The status of a refusal written into a stream whose head went out before it (streams/early-stream-head.ts). */
  refusedStatus?: number;
}


export function noteInference(c: Context<QueenEnv>, facts: InferenceFacts): void {
  c.set("inference", facts);
}

/** Longest model name a refused request's log line and metrics carry (the API's own limit). */
const MAX_ASKED_MODEL_CHARS = 256;

/**
 * The model a request's body names, noted before the body is validated: a request refused as
 * invalid (400) is logged, and counted in the metrics, under the model it asked for (its metrics
 * label only once a request of that model was served). The route notes the resolved model later.
 */
export function noteAskedModel(c: Context<QueenEnv>, body: unknown): void {
  const model = typeof body === "object" && body !== null ? (body as { model?: unknown }).model : undefined;
  if (typeof model === "string" && model.length > 0 && model.length <= MAX_ASKED_MODEL_CHARS) noteInference(c, { model });
}

/**
 * An inference request refused before its route read it (a key's or an address's rate limit):
 * counted in the metrics all the same, under NO_MODEL, so that rate limiting shows.
 */
export function countRefusedInference(c: Context<QueenEnv>, status: number, arrivedAtMs: number): void {
  const sample = { model: NO_MODEL, status, promptTokens: 0, completionTokens: 0, ttftMs: null, totalMs: Date.now() - arrivedAtMs, served: false };
  reportRequest(c.env, (promise) => c.executionCtx.waitUntil(promise), sample);
}

export interface AnswerSeen {
  arrivedAtMs: number;
  status: number;
  tokens: TokenUsage;
  /** When the answer's first body byte passed, if it had a body. */
  firstChunkAtMs: number | undefined;
  /**
   * Why the answer's body stopped short of its end, though its head said `status`: the client left
   * (`client_gone`), or the error its client got last (`request_timeout`, `worker_stalled`, a lost
   * worker's cause). Undefined for an answer that went out whole.
   */
  cut: string | undefined;
}

export async function inferenceOutcome(c: Context<QueenEnv>, seen: AnswerSeen): Promise<void> {
  const endedAtMs = Date.now();
  const key = c.var.apiKey;
  const facts = c.var.inference;
  const ttftMs = seen.firstChunkAtMs === undefined ? null : seen.firstChunkAtMs - seen.arrivedAtMs;
  const totalMs = endedAtMs - seen.arrivedAtMs;
  const model = facts?.model ?? NO_MODEL;
  const status = facts?.refusedStatus ?? seen.status;
  reportRequest(c.env, (promise) => c.executionCtx.waitUntil(promise), {
    // `model@hive` is the model's request, pinned: one series per model, not per pin.
    model: parseModelTarget(model).model,
    status,
    promptTokens: seen.tokens.promptTokens,
    completionTokens: seen.tokens.completionTokens,
    ttftMs,
    totalMs,
    served: facts?.worker !== undefined,
  });
  console.log(
    JSON.stringify({
      event: "inference",
      request_id: c.var.requestId,
      relay_id: c.var.relayId,
      method: c.req.method,
      path: c.req.path,
      model,
      key_id: key.id,
      status,
      cut: seen.cut ?? null,
      ttft_ms: ttftMs,
      total_ms: totalMs,
      prompt_tokens: seen.tokens.promptTokens,
      completion_tokens: seen.tokens.completionTokens,
      hive: facts?.hive ?? null,
      worker: facts?.worker ?? null,
      relay_ids: facts?.relayIds ?? [],
    }),
  );
  if (key.limits) {
    await chargeTokens(c.env, key.id, key.limits, seen.tokens).catch((error: unknown) =>
      console.warn(`could not charge ${seen.tokens.promptTokens + seen.tokens.completionTokens} tokens to the limits of API key ${key.id}: ${String(error)}`),
    );
  }
}
