// The relay core every inference route shares, whatever dialect the client spoke: a validated
// OpenAI request (chat completions, completions or embeddings) takes a lease on a worker of its
// model from the Registry's scheduler (waiting in the queen's per-model queue while every slot is
// taken, up to the request's deadline) and is relayed through that worker's hive, streaming the
// answer back; a relay that fails before its first byte moves to another worker unseen
// (scheduling/leased-relay.ts), and a streamed answer whose worker is lost mid-answer goes on from
// another (streams/spliced-stream.ts). A key without the admin scope reads relay failures without
// hive names, ports or worker ids (client-errors/); an admin key reads them as the queen and the
// hive wrote them. routes/inference.ts serves the OpenAI routes with it as they are; the
// Responses and Anthropic routes (dialects/) translate into a chat request first and translate
// the answer back.
//
// Every answer carries Server-Timing (queue, spawn, place, relay). Only admin keys are told which
// hive and worker served it (x-rbee-hive, x-rbee-worker): the layout of someone's machines is
// internal to inference keys, the policy of client-errors/.
import type { Context } from "hono";
import type { OpenAiErrorBody } from "../../shared/errors.js";
import { newId } from "../../shared/ids.js";
import { parseKeepAliveMs, withoutKeepAlive } from "../../shared/openai/keep-alive.js";
import {
  FAILOVERS_HEADER,
  REQUEST_TIMEOUT_HEADER,
  SERVED_BY_HIVE_HEADER,
  SERVED_BY_WORKER_HEADER,
  SERVER_TIMING_HEADER,
} from "../../shared/openai/inference-headers.js";
import { INPUT_TOKENS_PATH, type RelayablePath } from "../../shared/protocol/hive-frames.js";
import { resolveAlias } from "../aliases/model-aliases.js";
import { redactRelayErrors, rewordForClient } from "../client-errors/redact-relay-errors.js";
import type { QueenEnv } from "../env.js";
import { noteInference } from "../observability/inference-outcome.js";
import { mayUseModel, modelNotAllowed } from "../auth/key-models.js";
import { keyStanding } from "../auth/key-standing.js";
import { leasedRelay, type LeasedRelayInput, type RelayLease } from "../scheduling/leased-relay.js";
import { parseModelTarget } from "../scheduling/model-target.js";
import { refusalError, unknownHiveRefusal } from "../scheduling/pinned-hive-refusal.js";
import { cacheScopeOf, promptKeysOf } from "../scheduling/prompt-affinity.js";
import { requestDeadlineMs } from "../scheduling/request-deadline.js";
import { resumeAnswer } from "../scheduling/resume-answer.js";
import { sdkTimeoutMs } from "../scheduling/sdk-timeout.js";
import { serverTiming } from "../scheduling/server-timing.js";
import { answerOrEarlyHead } from "../streams/early-stream-head.js";
import { failoverStream, lostOnTheWay } from "../streams/spliced-stream.js";
import { usageCeiling } from "../usage/usage-ceiling.js";

/**
 * Relays `request` (already validated against `path`'s schema) and answers with the worker's
 * response in OpenAI's shapes, or the queen's refusal as an OpenAI error, with the route headers.
 * `arrivedAtMs` is when the client's request arrived: its deadline counts from then. `headers`
 * go on the answer too (x-rbee-ignored-fields).
 */
export async function relayInference(
  c: Context<QueenEnv>,
  request: { model: string },
  path: RelayablePath,
  arrivedAtMs: number,
  headers: Record<string, string> = {},
): Promise<Response> {
  const askedDeadlineMs = requestDeadlineMs(c.req.header(REQUEST_TIMEOUT_HEADER), c.var.config.requestTimeoutSeconds, arrivedAtMs);
  // A client whose SDK says how long it waits is not answered later than that, whole (scheduling/sdk-timeout.ts).
  const clientWaitMs = streamed(request) ? undefined : sdkTimeoutMs(c.req.raw.headers);
  const deadlineMs = clientWaitMs === undefined ? askedDeadlineMs : Math.min(askedDeadlineMs, arrivedAtMs + clientWaitMs);
  const model = await resolveAlias(c.env.DB, request.model);
  noteInference(c, { model });
  const { apiKey } = c.var;
  if (!mayUseModel(apiKey.models, request.model, model)) throw modelNotAllowed(apiKey.id, request.model, apiKey.models ?? []);
  // The client is gone when workerd says so, or when it leaves a stream whose head went out early.
  const gone = new AbortController();
  const clientSignal = c.req.raw.signal;
  if (clientSignal.aborted) gone.abort(clientSignal.reason);
  else clientSignal.addEventListener("abort", () => gone.abort(clientSignal.reason), { once: true });
  // What the worker is sent: without keep_alive (the queen's), and a prompt's cache scoped to the key.
  const relayed = { ...withoutKeepAlive(request), ...(GENERATING_PATHS.has(path) ? { rbee_cache_scope: cacheScopeOf(c.var.apiKey.id) } : {}) };
  const relay: LeasedRelayInput = {
    env: c.env,
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
    signal: gone.signal,
    lease: {
      requestId: c.var.relayId,
      ...parseModelTarget(model),
      keyId: c.var.apiKey.id,
      deadlineMs,
      ...keepAliveOf(request),
      // A count of the prompt's tokens takes no slot of the worker (worker/routes/chat-input-tokens.ts).
      ...(path === INPUT_TOKENS_PATH ? { slotless: true } : { promptKeys: promptKeysOf(request, c.var.apiKey.id) }),
    },
    path,
    // The validated request is re-serialised: the worker never sees bytes the queen didn't parse.
    body: JSON.stringify(relayed),
    answerType: streamed(request) ? "event-stream" : "json",
    // A request that waited may have outlived its key's standing (revoked, its budget spent).
    stillAdmitted: () => keyStanding(c.env, c.var.apiKey, path !== INPUT_TOKENS_PATH),
  };
  // What the hive reports of the answer's usage is billed no higher than the request allows.
  c.set("usageCeiling", usageCeiling(request, path, relay.body));
  const answer = placedAnswer(c, model, relayed, relay, headers);
  // A streamed answer's meter is ended by the stage that relays it (spliced-stream.ts); one the
  // route refused or failed ends it here, an early head's refusal event included.
  answer.catch(() => c.var.streamMeter?.end());
  if (!streamed(request)) return answer;
  // A stream that waits for a worker gets its head early, so that a client giving up is heard (streams/early-stream-head.ts).
  return answerOrEarlyHead(answer, {
    gone,
    headers: exposed(headers),
    onRefusal: (status) => noteInference(c, { model, refusedStatus: status }),
  });
}

/** The answer once the request is placed and its worker answers (or it is refused), with the route headers. */
async function placedAnswer(c: Context<QueenEnv>, model: string, relayed: { model: string }, relay: LeasedRelayInput, headers: Record<string, string>): Promise<Response> {
  const { path, lease } = relay;
  const { deadlineMs } = lease;
  const admin = c.var.apiKey.scopes.includes("admin");
  const result = await leasedRelay(relay);
  if (!result.ok) {
    c.var.streamMeter?.end();
    const refused = refusalError(await unknownHiveRefusal(c.env.DB, relay.lease.hive, result.refusal)).toResponse();
    return withHeaders(refused, { ...headers, [SERVER_TIMING_HEADER]: serverTiming({ ...result.timing, relayMs: 0 }) });
  }
  noteInference(c, { model, hive: result.hiveName, worker: result.workerId, relayIds: [result.relayId] });
  c.set("wholeAnswer", result.whole);
  // Failover after the first token (streams/spliced-stream.ts): a streamed answer whose way to its
  // worker broke mid-answer is resumed from its hive, and one whose worker is lost goes on from
  // another worker; anything else passes through unchanged.
  const lostWorkers: string[] = [];
  // The relay whose answer the client reads now: the one a resume asks the rest of, and whose
  // worker's lease a loss ends.
  let current: { relayId: string; hiveName: string; workerId: string; lease: RelayLease } = result;
  // An event stream's leases are ended here (leased-relay.ts), one per worker that answered it.
  const leases = [result.lease];
  const streamed = failoverStream({
    request: relayed,
    path,
    first: result.response,
    retry: async (continuation, lost) => {
      if (Date.now() >= deadlineMs) return undefined; // past X-Request-Timeout: end it, do not start again
      // Not placed on again, unless only the way to it broke: then it may take the rest once its hive is back.
      if (!lostOnTheWay(lost)) lostWorkers.push(current.workerId);
      // An answer under way is finished whatever became of its key meanwhile: no stillAdmitted.
      const { stillAdmitted: _asked, ...resumed } = relay;
      const next = await leasedRelay({ ...resumed, lease: { ...relay.lease, requestId: newId("req"), excludeWorkerIds: lostWorkers, continuing: true }, body: continuation });
      if (!next.ok) return undefined;
      current = next;
      const answered = c.var.inference?.relayIds ?? [];
      noteInference(c, { model, hive: next.hiveName, worker: next.workerId, relayIds: [...answered, next.relayId] });
      leases.push(next.lease);
      return next.response;
    },
    resume: (offset) => resumeAnswer(c.env, current.hiveName, current.relayId, offset, deadlineMs),
    // A worker given up mid-answer: not called for one whose way broke and that was resumed, which
    // is the same worker answering still and keeps its lease.
    onWorkerLost: (attempt, cause) => {
      current.lease.release(lostOnTheWay(cause) ? "relay_lost" : "worker_failed");
      console.warn(`request ${result.relayId}: worker lost mid-answer (continuation ${attempt}): ${cause.code}: ${cause.message}`);
    },
    // X-Request-Timeout bounds the whole answer: a stream still running at the deadline is cut there.
    deadlineMs,
    // Every lease the answer still holds (the worker that finished it, and any resumed) is given
    // back as the client's stream ends; one the client left or the deadline cut stops its hive too.
    onClose: (how) => {
      for (const lease of leases) {
        if (how === "ended") lease.release("ok");
        else lease.cancel();
      }
    },
    // In the stream's own stage, not layers of their own (streams/spliced-stream.ts says why).
    ...(admin ? {} : { rewordError: (error: OpenAiErrorBody) => rewordForClient(error, c.var.requestId) }),
    meter: c.var.streamMeter,
    hideUsageChunk: c.var.usageUnasked === true,
  });
  const response = admin ? streamed : await redactRelayErrors(streamed, c.var.requestId);
  const answered: Record<string, string> = { ...headers, [SERVER_TIMING_HEADER]: serverTiming(result.timing) };
  if (result.failovers > 0) answered[FAILOVERS_HEADER] = String(result.failovers);
  if (admin) {
    answered[SERVED_BY_HIVE_HEADER] = result.hiveName;
    answered[SERVED_BY_WORKER_HEADER] = result.workerId;
  }
  return withHeaders(response, answered);
}

/** The paths whose requests a worker's slot generates for, and whose prompts it may reuse. */
const GENERATING_PATHS: ReadonlySet<RelayablePath> = new Set(["/v1/chat/completions", "/v1/completions"]);

/** Whether the request asked for its answer as a stream. */
function streamed(request: object): boolean {
  return (request as { stream?: unknown }).stream === true;
}

/** The lease's `keepAliveMs` from the request's `keep_alive` (chat and completions; embeddings have none). */
function keepAliveOf(request: object): { keepAliveMs?: number } {
  const asked = "keep_alive" in request ? request.keep_alive : undefined;
  const keepAliveMs = typeof asked === "number" || typeof asked === "string" ? parseKeepAliveMs(asked) : undefined;
  return keepAliveMs === undefined ? {} : { keepAliveMs };
}

/** `response` with `headers` added, readable by browser scripts too (Access-Control-Expose-Headers). */
function withHeaders(response: Response, headers: Record<string, string>): Response {
  const merged = new Headers(response.headers);
  for (const [name, value] of Object.entries(exposed(headers))) merged.set(name, value);
  return new Response(response.body, { status: response.status, headers: merged });
}

/** `headers`, and Access-Control-Expose-Headers naming them so a page may read them. */
function exposed(headers: Record<string, string>): Record<string, string> {
  return { ...headers, "access-control-expose-headers": Object.keys(headers).join(", ") };
}
