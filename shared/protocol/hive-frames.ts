// The queen↔hive wire protocol: JSON text frames over the one WebSocket a hive opens to the
// queen. Both ends parse every frame with these schemas; nothing is trusted unparsed.
import { z } from "zod";
import { idPattern } from "../ids.js";
import { CatalogModels } from "./catalog-models.js";
import { Bytes, MAX_CPU_CORES } from "./figures.js";
import { HiveDevices } from "./hive-devices.js";
import { JobEvent } from "./job-event.js";
import { HiveOperation, JobId } from "./job-operation.js";
import { MAX_LABEL_CHARS, MAX_MESSAGE_CHARS } from "./text-limits.js";
import { WorkerHeartbeat, WorkerId } from "./worker-heartbeat.js";

/**
 * Bumped on any incompatible change; the queen refuses a hello with another version. 4: pings
 * (a hive that never pings is dropped as silent), job acks and replay, the hello's job list.
 * 5: the hello lists the hive's workers (the queen drops the ones it issued that are missing)
 * and its catalog's models, as hive_status does; heartbeats count only for issued worker ids.
 * 6: relay flow control: the queen acknowledges what its client pulled (response_ack), and the
 * hive sends at most a window of unacknowledged bytes per request (relay-flow.ts); worker
 * heartbeats travel batched, one worker_heartbeats frame per interval.
 * 7: frames the hive sends within one turn of its event loop travel as one `batch` message (a
 * non-streamed answer's head, body and end; a stream's head and first token).
 * 8: `resume`: the queen asks for the rest of an answer after its socket dropped or its relaying
 * object was reset, and the hive keeps each answer for RELAY_RESUME_GRACE_MS to be asked for it.
 * 9: `worker_exited`: the hive says at once that one of its serving workers' processes ended,
 * instead of leaving the queen to notice three missed heartbeats.
 * 10: the hive relays INPUT_TOKENS_PATH, a chat prompt's tokens counted without generating.
 */
export const PROTOCOL_VERSION = 10;

/** The first protocol whose hives answer a `resume`; an older hive's answers are continued instead. */
export const RESUME_PROTOCOL = 8;

/**
 * The oldest hive protocol a queen still welcomes: a hive of protocol 6 sends no batches, and
 * nothing the queen sends changed in 7; the queen sends `resume` (8) only to hives of
 * RESUME_PROTOCOL or later, and INPUT_TOKENS_PATH (10) only to hives of INPUT_TOKENS_PROTOCOL. A
 * queen deployed first thus keeps its hives of 6 to 9 serving (a hive of 8 or older sends no
 * `worker_exited`: its dead workers go when their heartbeats are missed).
 */
export const OLDEST_HIVE_PROTOCOL = 6;

/** The first protocol whose hives relay INPUT_TOKENS_PATH; the queen counts another way on an older hive. */
export const INPUT_TOKENS_PROTOCOL = 10;

/** Largest frame either end accepts. A token stream is coalesced well below this. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Jobs a hello may list; a hive runs a handful at a time. */
export const MAX_HELLO_JOBS = 10_000;

/** Workers a hello may list: far above the queen's MAX_WORKERS_PER_HIVE, which refuses the rest. */
export const MAX_HELLO_WORKERS = 1024;

const RequestId = z.string().regex(idPattern("req"));
const ProblemDetail = z.object({ code: z.string().max(MAX_LABEL_CHARS), message: z.string().max(MAX_MESSAGE_CHARS) });

/** The worker's count of a chat request's prompt tokens (worker/routes/chat-input-tokens.ts). */
export const INPUT_TOKENS_PATH = "/v1/chat/completions/input_tokens";

/** Worker API paths the queen may ask a hive to relay; the hive refuses any other. */
export const RELAYABLE_PATHS = ["/v1/chat/completions", INPUT_TOKENS_PATH, "/v1/completions", "/v1/embeddings", "/v1/rerank"] as const;
export type RelayablePath = (typeof RELAYABLE_PATHS)[number];

// ── hive → queen ────────────────────────────────────────────────────────────────────────────

export const HelloFrame = z.object({
  type: z.literal("hello"),
  protocol: z.number().int(),
  hive: z.object({
    version: z.string().max(64),
    os: z.string().max(64),
    arch: z.string().max(64),
    cpuCores: z.number().int().positive().max(MAX_CPU_CORES),
    memoryBytes: Bytes,
  }),
  /** GPUs, memory and the worker types this machine runs, as detected when it connected. */
  devices: HiveDevices,
  /**
   * The jobs this hive still has something of: running, or ended with events the queen has not
   * acknowledged yet (they are replayed after the welcome). The queen ends every job it thinks
   * runs on this hive that is missing here: the hive restarted, or never got its job_start.
   */
  jobs: z.array(JobId).max(MAX_HELLO_JOBS),
  /** The models ready in this hive's catalog (absent from a hive that reports none). */
  models: CatalogModels.optional(),
  /**
   * The workers this hive still has (running and heard from, or found running when it started):
   * the queen drops at once every worker it issued to this hive that is missing here.
   */
  workers: z.array(WorkerId).max(MAX_HELLO_WORKERS),
});
export type HelloFrame = z.infer<typeof HelloFrame>;

/** The periodic refresh of what the hello said about devices (free memory changes). */
export const HiveStatusFrame = z.object({
  type: z.literal("hive_status"),
  devices: HiveDevices,
  /** The models ready in the catalog, as in the hello; sent again whenever the catalog changes. */
  models: CatalogModels.optional(),
});

/**
 * Worker heartbeats the hive relays, batched (hive/connection/heartbeat-batcher.ts): each worker's
 * latest, one frame per heartbeat interval, and at once for a worker's first or a change of state.
 */
export const WorkerHeartbeatsFrame = z.object({ type: z.literal("worker_heartbeats"), heartbeats: z.array(WorkerHeartbeat).min(1).max(MAX_HELLO_WORKERS) });

/**
 * One of the hive's serving workers exited without saying so (a crash, a kill, a machine out of
 * memory), noticed from its exit or its pid (hive/workers/worker-exits.ts). A worker that stops on
 * SIGTERM says `stopped` in its last heartbeat instead.
 */
export const WorkerExitedFrame = z.object({
  type: z.literal("worker_exited"),
  workerId: WorkerId,
  /** How it ended, for a person: its exit status when known and its log's last lines. */
  detail: z.string().max(MAX_MESSAGE_CHARS),
});

export const ResponseHeadFrame = z.object({
  type: z.literal("response_head"),
  requestId: RequestId,
  status: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.string()),
});

// Chunks carry a sequence number and the end says how many were sent: the queen reassembles
// in order even if events are delivered out of order (seen with workerd's test harness), and
// never ends a body before every chunk has arrived.
export const ResponseChunkFrame = z.object({
  type: z.literal("response_chunk"),
  requestId: RequestId,
  /** 0, 1, 2, … per request. */
  seq: z.number().int().nonnegative(),
  data: z.string(),
});

/**
 * The codes a hive ends a relay with (response_end's `error`). The queen passes a relay's code on
 * to its client, whose program may act on it, so it takes no other from a hive: any other code
 * reads as `hive_error`, with the hive's words kept in the message.
 */
export const RELAY_END_CODES = ["worker_unknown", "worker_unreachable", "worker_disconnected", "resume_unavailable"] as const;
export type RelayEndCode = (typeof RELAY_END_CODES)[number];

export const ResponseEndFrame = z.object({
  type: z.literal("response_end"),
  requestId: RequestId,
  /** How many response_chunk frames were sent for this request. */
  chunks: z.number().int().nonnegative(),
  /** Set when the response was cut short (worker died mid-stream, …). */
  error: ProblemDetail.optional(),
});

/** One event of a job the queen started on this hive; the queen refuses other hives' jobs. */
// Numbered like response chunks, for the same reason: the queen puts a job's events back in
// the order the hive sent them even if they are delivered out of order.
export const JobEventFrame = z.object({
  type: z.literal("job_event"),
  jobId: JobId,
  /** 0, 1, 2, … per job. */
  seq: z.number().int().nonnegative(),
  event: JobEvent,
});

/**
 * The hive's liveness probe, sent every heartbeat interval as exactly PING_FRAME: the queen
 * answers it with PONG_FRAME through the Durable Object auto-response, without waking.
 */
export const PingFrame = z.object({ type: z.literal("ping") });

/** Frames that may travel in a batch: all but the hello, which opens the conversation, and the ping, which must be exactly PING_FRAME. */
export const BatchableFrame = z.discriminatedUnion("type", [
  HiveStatusFrame,
  WorkerHeartbeatsFrame,
  WorkerExitedFrame,
  JobEventFrame,
  ResponseHeadFrame,
  ResponseChunkFrame,
  ResponseEndFrame,
]);
export type BatchableFrame = z.infer<typeof BatchableFrame>;

/** Frames a batch holds at most; a batch is also bounded by MAX_FRAME_BYTES. */
export const MAX_BATCH_FRAMES = 256;

/**
 * Several frames as one WebSocket message, handled in order as if sent one by one
 * (hive/connection/frame-batcher.ts). Each message costs the queen's Durable Object an event and
 * each end a socket write: a non-streamed answer's head, body and end in one message cost one.
 */
export const FrameBatch = z.object({ type: z.literal("batch"), frames: z.array(BatchableFrame).min(1).max(MAX_BATCH_FRAMES) });
export type FrameBatch = z.infer<typeof FrameBatch>;

export const HiveToQueenFrame = z.discriminatedUnion("type", [HelloFrame, PingFrame, FrameBatch, ...BatchableFrame.options]);
export type HiveToQueenFrame = z.infer<typeof HiveToQueenFrame>;

// ── queen → hive ────────────────────────────────────────────────────────────────────────────

export const WelcomeFrame = z.object({
  type: z.literal("welcome"),
  protocol: z.number().int(),
  hiveName: z.string(),
  /** Workers of this hive must heartbeat this often; three missed and they are gone. */
  heartbeatIntervalMs: z.number().int().positive(),
});

/** Starts a job; the hive answers with job_event frames ending in done, error or cancelled. */
export const JobStartFrame = z.object({ type: z.literal("job_start"), jobId: JobId, operation: HiveOperation });

/** Asks the hive to abort a job; it answers with a `cancelled` event (or the end it reached first). */
export const JobCancelFrame = z.object({ type: z.literal("job_cancel"), jobId: JobId });

export const RelayRequestFrame = z.object({
  type: z.literal("request"),
  requestId: RequestId,
  workerId: WorkerId,
  port: z.number().int().min(1).max(65535),
  path: z.enum(RELAYABLE_PATHS),
  body: z.string(),
});

export const CancelRequestFrame = z.object({ type: z.literal("cancel"), requestId: RequestId });

/**
 * The queen's client has pulled the response of `requestId` up to byte `offset` of its body
 * (UTF-8, counted from the first chunk): the hive may send that much further (relay-flow.ts).
 */
export const ResponseAckFrame = z.object({ type: z.literal("response_ack"), requestId: RequestId, offset: z.number().int().nonnegative() });

/**
 * Asks for the rest of the answer to `requestId` from byte `offset` of its body, which is where
 * an event ends (or 0): the queen lost its way to the answer (the hive's socket dropped, or the
 * object relaying it was reset) while the client's request still waits. The hive answers as
 * for a new request, a response_head and chunks numbered from 0, with the body from `offset`
 * on; or with a response_end whose error is `resume_unavailable` when it has no such answer
 * kept, or not from that offset.
 */
export const ResumeRequestFrame = z.object({ type: z.literal("resume"), requestId: RequestId, offset: z.number().int().nonnegative() });

/** Sent back when a frame could not be accepted; the connection stays open. */
/**
 * The `error` code of a heartbeat from a worker the queen never started on this hive (or forgot
 * while the hive was away): the hive stops such a worker (hive/workers/disowned-workers.ts).
 */
export const WORKER_NOT_ISSUED = "worker_not_issued";

/** `workerId`: the worker a refused heartbeat spoke for, so that the hive can act on it (WORKER_NOT_ISSUED). */
export const ProtocolErrorFrame = z.object({ type: z.literal("error"), code: z.string(), message: z.string(), workerId: WorkerId.optional() });

/**
 * The queen has recorded the job's events up to and including `seq` (or refused them for good):
 * the hive forgets them. Until then it keeps them and replays them after a reconnect.
 */
export const JobAckFrame = z.object({ type: z.literal("job_ack"), jobId: JobId, seq: z.number().int().nonnegative() });

/** The answer to a ping. */
export const PongFrame = z.object({ type: z.literal("pong") });

export const QueenToHiveFrame = z.discriminatedUnion("type", [
  WelcomeFrame,
  JobAckFrame,
  PongFrame,
  JobStartFrame,
  JobCancelFrame,
  RelayRequestFrame,
  CancelRequestFrame,
  ResponseAckFrame,
  ResumeRequestFrame,
  ProtocolErrorFrame,
]);
export type QueenToHiveFrame = z.infer<typeof QueenToHiveFrame>;

/** The exact text of a ping and of its answer: the queen's auto-response matches text, not JSON. */
export const PING_FRAME = JSON.stringify({ type: "ping" } satisfies z.infer<typeof PingFrame>);
export const PONG_FRAME = JSON.stringify({ type: "pong" } satisfies z.infer<typeof PongFrame>);
