// One inference request's way to a worker, as the inference route runs it: take a lease from the
// Registry (waiting in the queen's queue if every slot is taken), relay through the worker's hive,
// and give the lease back exactly once. A relay that fails before the first byte (failover.ts)
// gives its lease back as `worker_failed` and the request is leased again to another worker, up
// to MAX_RELAY_ATTEMPTS (or two workers that took it and failed), without the client knowing:
// one whose hive was offline or dropped its socket goes to the same worker once the hive is back,
// if that is within a few seconds. A relay whose HiveSession call failed (a deploy reset it) is
// first resumed from the hive, which may hold the worker's answer (resume-answer.ts). A served
// answer's lease ends when its body ends, fails or is cancelled, at once when it came back whole
// (hive-session/whole-answer.ts); a successful event stream's is its reader's to end
// (LeasedRelayResult.lease).
import { describeError, RbeeError } from "../../shared/errors.js";
import { newId } from "../../shared/ids.js";
import type { RelayablePath } from "../../shared/protocol/hive-frames.js";
import type { AnswerType } from "../../shared/protocol/relayed-head.js";
import type { RelayRequest } from "../hive-session/hive-session.js";
import { hiveSessionStub } from "../hive-session/stub.js";
import { answerResponse } from "../hive-session/whole-answer.js";
import { isEventStream } from "../http/event-stream.js";
import { registryStub } from "../registry/stub.js";
import { boundedBody } from "../streams/bounded-body.js";
import { REQUEST_TIMEOUT } from "../streams/spliced-stream.js";
import { tapStream } from "../streams/tap-stream.js";
import type { LeaseEnd, LeaseOutcome, LeaseRequest, LeaseTiming, LeaseWait } from "./contracts.js";
import type { Refusal } from "./dispatcher.js";
import { MAX_RELAY_ATTEMPTS, markRelayFailed, relayFailureOf, withoutRelayMark } from "./failover.js";
import { resumeAnswer } from "./resume-answer.js";
import type { ResponseTiming } from "./server-timing.js";
import { printable } from "../../shared/printable.js";

export interface LeasedRelayInput {
  env: Env;
  waitUntil: (promise: Promise<unknown>) => void;
  /** The client's request signal: aborted when it goes away. */
  signal: AbortSignal;
  lease: LeaseRequest;
  path: RelayablePath;
  body: string;
  /** What a successful answer must be: an event stream when the request asked for a stream. */
  answerType: AnswerType;
  /**
   * Asked once the request is placed after a wait (in the queue, or for a worker to load): why
   * it may no longer be served (its key revoked, or its token budget spent, meanwhile), if so.
   */
  stillAdmitted?: () => Promise<RbeeError | undefined>;
}

export type LeasedRelayResult =
  | {
      ok: true;
      /** The worker's answer (or the last relay failure, when no other worker could take over). */
      response: Response;
      /**
       * The answer came back whole, as text (hive-session/whole-answer.ts): its body is short and
       * all here, and its lease is already given back.
       */
      whole: boolean;
      /** The id the last relay ran under: the hive and the logs know the request by it. */
      relayId: string;
      hiveName: string;
      workerId: string;
      timing: ResponseTiming;
      /** Workers that failed the request before its first byte and were replaced. */
      failovers: number;
      /**
       * The lease on `workerId`. Any other body gives it back itself when it ends, fails or is
       * cancelled; a successful event stream's is the caller's to end, because only the stream's reader
       * knows how the answer ended: a stream whose way broke and was resumed from the hive is the
       * same worker still answering, and keeps its lease (routes/inference-relay.ts).
       */
      lease: RelayLease;
    }
  | { ok: false; refusal: Refusal; timing: LeaseTiming };

/** A lease on a worker that its holder gives back. */
export interface RelayLease {
  /** Gives the lease back; only the first call counts. */
  release(end: LeaseEnd): void;
  /** The client went away: gives the lease back, if still held, and tells the hive to stop the answer. */
  cancel(): void;
}

type Registry = ReturnType<typeof registryStub>;
type Session = ReturnType<typeof hiveSessionStub>;

/** Relay failures of the way to the worker, not of the worker: its hive was offline, or dropped its socket. */
const HIVE_FAILURES: ReadonlySet<string> = new Set(["hive_offline", "hive_disconnected"]);

/**
 * Failures of a worker that had taken the request: it closed the connection or went silent before
 * answering, or never started to. The request may be what broke it (a prompt or grammar that
 * crashes or hangs the engine), so after two such workers it is not handed to a third.
 */
const TAKEN_FAILURES: ReadonlySet<string> = new Set(["worker_disconnected", "worker_timeout"]);
const MAX_WORKERS_FAILED_BY_REQUEST = 2;

/** What a request whose client left is "refused" with; nobody reads it. */
const CLIENT_GONE: Refusal = { ok: false, status: 503, code: "client_gone", message: "The client went away." };

export async function leasedRelay(input: LeasedRelayInput): Promise<LeasedRelayResult> {
  const { env, signal, lease } = input;
  const registry = registryStub(env);
  const excluded: string[] = [...(lease.excludeWorkerIds ?? [])];
  const timing: LeaseTiming = { queueMs: 0, spawnMs: 0, placeMs: 0 };
  /** The failed attempts' relays until they failed; the waits between them are in `timing`. */
  let failedRelaysMs = 0;
  let lastFailure: Extract<LeasedRelayResult, { ok: true }> | undefined;
  let workersFailed = 0;
  for (let attempt = 1; attempt <= MAX_RELAY_ATTEMPTS; attempt += 1) {
    const askedAtMs = Date.now();
    const outcome = await acquireUnlessGone(registry, { ...lease, excludeWorkerIds: excluded }, input);
    chargeWait(timing, askedAtMs, outcome.timing);
    if (!outcome.ok) return lastFailure ?? { ok: false, refusal: outcome, timing };
    const relayId = attempt === 1 ? lease.requestId : newId("req");
    const session = hiveSessionStub(env, outcome.hiveName);
    const held = new HeldLease(registry, outcome.leaseId, input.waitUntil, () => input.waitUntil(session.cancelRelay(relayId)));
    if (signal.aborted) {
      held.release("client_gone"); // leased just as the client left
      return { ok: false, refusal: CLIENT_GONE, timing };
    }
    // Placed as its deadline passed (the lease and the queue's timer came due together): nothing
    // is asked of the worker, which has no time left to answer.
    if (Date.now() >= lease.deadlineMs) {
      held.release("deadline");
      return lastFailure ?? { ok: false, refusal: deadlineAtPlacement(lease, timing), timing };
    }
    const refused = outcome.timing.queueMs + outcome.timing.spawnMs > 0 ? await stillAdmitted(input, lease.requestId) : undefined;
    if (refused) {
      held.release("refused");
      return { ok: false, refusal: refusalOf(refused), timing };
    }
    if (signal.aborted) {
      held.release("client_gone"); // it left while its key was asked after
      return { ok: false, refusal: CLIENT_GONE, timing };
    }
    const cancel = () => held.cancel();
    signal.addEventListener("abort", cancel, { once: true });
    const relayStartedAtMs = Date.now();
    // The worker must start answering before the request's deadline (X-Request-Timeout).
    const headTimeoutMs = lease.deadlineMs - Date.now();
    const request = { requestId: relayId, workerId: outcome.workerId, port: outcome.port, path: input.path, body: input.body };
    const { response, whole } = await relayOnce(session, request, outcome.hiveName, headTimeoutMs, input.answerType);
    const served = {
      ok: true as const,
      relayId,
      hiveName: outcome.hiveName,
      workerId: outcome.workerId,
      timing: { ...timing, relayMs: failedRelaysMs + Date.now() - relayStartedAtMs },
      failovers: attempt - 1,
      lease: held,
    };
    const failure = relayFailureOf(response);
    if (failure === undefined) {
      if (!whole) return { ...served, whole, response: holdUntilEnd(response, held, lease.deadlineMs) };
      // Nothing of it is left to come: the worker's slot is free now, whenever the client reads it.
      held.release("ok");
      return { ...served, whole, response };
    }
    // The HiveSession call itself failed (a deploy reset it): the request may well have reached
    // the worker, whose hive keeps the answer for a resume once it is back.
    const resumed = failure === "relay_failed" && !signal.aborted ? await resumeAnswer(env, outcome.hiveName, relayId, 0, lease.deadlineMs) : undefined;
    if (resumed) return { ...served, whole: false, response: holdUntilEnd(resumed, held, lease.deadlineMs) };
    signal.removeEventListener("abort", cancel);
    // A worker whose hive was offline, or whose hive's socket dropped (a blip, a crashed hive that
    // is being restarted), is not to blame and is not passed over: the next lease waits for the
    // hive to come back with it (or goes elsewhere).
    const hiveFailed = HIVE_FAILURES.has(failure);
    // No head by the request's own deadline is the request's time running out, not the worker failing.
    const outOfTime = failure === "worker_timeout" && Date.now() >= lease.deadlineMs;
    held.release(outOfTime ? "deadline" : hiveFailed ? "relay_lost" : "worker_failed");
    // A request whose own deadline passed before its first byte is no worker's failure: its 504 says it.
    if (!outOfTime) console.warn(`request ${lease.requestId}: worker ${outcome.workerId} on hive ${outcome.hiveName} failed before answering (${printable(failure, 100)}); attempt ${attempt} of ${MAX_RELAY_ATTEMPTS}`);
    lastFailure = { ...served, whole: false, response: withoutRelayMark(response), failovers: attempt - 1 };
    failedRelaysMs = served.timing.relayMs;
    if (signal.aborted || Date.now() >= lease.deadlineMs) break; // nobody to answer, or no time left to try another
    if (TAKEN_FAILURES.has(failure) && ++workersFailed >= MAX_WORKERS_FAILED_BY_REQUEST) {
      console.warn(`request ${lease.requestId}: ${workersFailed} workers took it and failed before answering; not trying another`);
      break;
    }
    if (!hiveFailed) excluded.push(outcome.workerId);
  }
  if (!lastFailure) throw new Error("leasedRelay: no attempt was made");
  return lastFailure;
}

/** Adds one lease's wait to `timing`; placement as the route sees it is the Registry round trip less that wait. */
function chargeWait(timing: LeaseTiming, askedAtMs: number, wait: LeaseWait = { queueMs: 0, spawnMs: 0 }): void {
  timing.queueMs += wait.queueMs;
  timing.spawnMs += wait.spawnMs;
  timing.placeMs += Math.max(0, Date.now() - askedAtMs - wait.queueMs - wait.spawnMs);
}

/** The 504 of a request whose deadline passed as it was placed: as the queue's own timeout says it. */
function deadlineAtPlacement(lease: LeaseRequest, timing: LeaseTiming): Refusal {
  const waitedSeconds = ((timing.queueMs + timing.spawnMs) / 1000).toFixed(1);
  return {
    ok: false,
    status: 504,
    code: "queue_timeout",
    message: `Waited ${waitedSeconds} s for a worker of model '${lease.model}' and was placed only as the request's deadline (X-Request-Timeout, or its client's own timeout) passed.`,
  };
}

/** Why the placed request may no longer be served, if so; a check that fails (D1 unreachable) is not the key's fault. */
async function stillAdmitted(input: LeasedRelayInput, requestId: string): Promise<RbeeError | undefined> {
  try {
    return await input.stillAdmitted?.();
  } catch (error) {
    console.warn(`request ${requestId}: could not check its key again after its wait; serving it: ${describeError(error)}`);
    return undefined;
  }
}

/** A refusal made by the route (an RbeeError), as the Registry's refusals read. */
function refusalOf(error: RbeeError): Refusal {
  const status = error.status === 401 || error.status === 429 ? error.status : 503;
  return {
    ok: false,
    status,
    code: error.code,
    message: error.message,
    ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    ...(error.final ? { final: true } : {}),
  };
}

/** Takes a lease; a client that goes away while queued takes its request out of the queue. */
async function acquireUnlessGone(registry: Registry, request: LeaseRequest, input: LeasedRelayInput): Promise<LeaseOutcome> {
  const { signal } = input;
  if (signal.aborted) return CLIENT_GONE;
  const abandon = () => input.waitUntil(registry.abandon(request.requestId));
  signal.addEventListener("abort", abandon, { once: true });
  try {
    return await registry.acquire(request);
  } finally {
    signal.removeEventListener("abort", abandon);
  }
}

/** The relay's answer, and whether it came back whole (as text, not a stream). */
async function relayOnce(session: Session, request: RelayRequest, hiveName: string, headTimeoutMs: number, answerType: AnswerType): Promise<{ response: Response; whole: boolean }> {
  try {
    const answer = await session.relay(request, hiveName, headTimeoutMs, answerType);
    return { response: answerResponse(answer), whole: !(answer instanceof Response) };
  } catch (error) {
    // The HiveSession call itself failed (its object was reset, say): nothing reached a worker.
    console.error(`relay of request ${request.requestId} failed`, error);
    const failure = new RbeeError(502, "relay_failed", "The queen could not reach the hive serving this model.", { retryAfterSeconds: 1 });
    return { response: markRelayFailed(failure.toResponse(), failure.code), whole: false };
  }
}

/**
 * The response whose body gives the lease back when it ends, fails or is cancelled by the client,
 * and fails once it stops coming or the request's deadline (`deadlineMs`) passes
 * (streams/bounded-body.ts); a successful event stream is returned as it is, its lease the
 * caller's (LeasedRelayResult.lease).
 */
function holdUntilEnd(response: Response, held: HeldLease, deadlineMs: number): Response {
  if (!response.body) {
    held.release("ok");
    return response;
  }
  if (response.ok && isEventStream(response)) return response;
  const body = tapStream(boundedBody(response.body, { deadlineMs }), {
    // A body that breaks off (a worker died mid-answer, or went quiet) counts against the worker.
    onEnd: (error) => held.release(error === undefined ? "ok" : error instanceof RbeeError && error.code === REQUEST_TIMEOUT ? "deadline" : "worker_failed"),
    // The reader's cancel and the request signal reach the Worker by different routes (through
    // wrangler's dev proxy the signal was seen to lag or go missing under load): either one
    // cancels, and the lease is released once.
    onCancel: () => held.cancel(),
  });
  return new Response(body, response);
}

/** A lease given back exactly once, whichever of the ways a relay ends comes first. */
class HeldLease implements RelayLease {
  private released = false;

  constructor(
    private readonly registry: Registry,
    private readonly leaseId: string,
    private readonly waitUntil: (promise: Promise<unknown>) => void,
    private readonly stopRelay: () => void,
  ) {}

  release(end: LeaseEnd): void {
    if (this.released) return;
    this.released = true;
    this.waitUntil(
      this.registry.release(this.leaseId, end).catch((error: unknown) => console.error(`could not release lease ${this.leaseId}`, error)),
    );
  }

  cancel(): void {
    if (this.released) return; // its relay is over
    this.release("client_gone");
    this.stopRelay();
  }
}
