// Test support for jobs inside workerd: submit one, read its Server-Sent Events, read its record.
import { SELF } from "cloudflare:test";
import { onTestFinished } from "vitest";
import type { StampedJobEvent } from "../../shared/protocol/job-event.js";
import { auth, eventually, listModelIds, TestHive } from "./hive-socket.js";

export interface SubmittedJob {
  job_id: string;
  stream_url: string;
}

export async function submitJob(body: unknown): Promise<SubmittedJob> {
  const response = await postJob(body);
  if (response.status !== 202) throw new Error(`POST /v1/jobs answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as SubmittedJob;
}

export function postJob(body: unknown): Promise<Response> {
  return SELF.fetch("https://queen/v1/jobs", {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** POST /v1/workers: starts a worker through a worker_spawn job and waits for it to spawn. */
export function postWorker(body: unknown): Promise<Response> {
  return SELF.fetch("https://queen/v1/workers", {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Opens the job's event stream; resolves once the queen answered with the stream's head. */
export async function openStream(jobId: string, headers: Record<string, string> = {}): Promise<Response> {
  const response = await SELF.fetch(`https://queen/v1/jobs/${jobId}/stream`, { headers: { ...auth, ...headers } });
  if (response.status !== 200) throw new Error(`stream of ${jobId} answered ${response.status}: ${await response.text()}`);
  return response;
}

/** Reads a stream to its end (the job's terminal event closes it) and parses its events. */
export async function readEvents(response: Response): Promise<StampedJobEvent[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    // Comment-only blocks (`: keep-alive`) carry no event.
    .filter((block) => block.trim() !== "" && !block.split("\n").every((line) => line.startsWith(":") || line === ""))
    .map((block) => {
      const data = block.split("\n").find((line) => line.startsWith("data: "));
      if (data === undefined) throw new Error(`SSE message without data: ${block}`);
      return JSON.parse(data.slice("data: ".length)) as StampedJobEvent;
    });
}

export async function getJob(jobId: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await SELF.fetch(`https://queen/v1/jobs/${jobId}`, { headers: auth });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export function deleteJob(jobId: string): Promise<Response> {
  return SELF.fetch(`https://queen/v1/jobs/${jobId}`, { method: "DELETE", headers: auth });
}

const nextSeqs = new WeakMap<TestHive, Map<string, number>>();

/** Sends a job_event frame numbered like a real hive numbers them (0, 1, 2, … per hive and job). */
export function sendJobEvent(hive: TestHive, jobId: string, event: Record<string, unknown>): void {
  const seqs = nextSeqs.get(hive) ?? new Map<string, number>();
  nextSeqs.set(hive, seqs);
  const seq = seqs.get(jobId) ?? 0;
  seqs.set(jobId, seq + 1);
  hive.send({ type: "job_event", jobId, seq, event });
}

/** Opens a stream and reads until event `seq` arrived, then lets go of the stream. */
export async function readUntilSeq(jobId: string, seq: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const reader = (await openStream(jobId)).body?.getReader();
  if (!reader) throw new Error("stream without a body");
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (!text.includes(`id: ${seq}\n`)) {
      if (Date.now() > deadline) throw new Error(`event ${seq} of ${jobId} did not arrive within ${timeoutMs} ms; got ${text}`);
      const chunk = await reader.read();
      if (chunk.done) throw new Error(`stream of ${jobId} ended before event ${seq}: ${text}`);
      text += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    await reader.cancel();
  }
}

/**
 * Starts a worker on `hive` the honest way, through a worker_spawn job the test hive answers as a
 * real one does (data {worker_id, pid, port}, then done): the queen issues the id, so the worker's
 * heartbeats are accepted. Resolves with the issued worker id.
 */
export async function spawnWorker(hive: TestHive, model: string, port = 40001): Promise<string> {
  const job = await submitJob({ operation: "worker_spawn", hive: hive.name, model, source: "file:/models/test.gguf" });
  const start = await hive.next("job_start");
  if (start.jobId !== job.job_id || start.operation.operation !== "worker_spawn") throw new Error(`unexpected job_start ${JSON.stringify(start)}`);
  const { workerId } = start.operation;
  sendJobEvent(hive, job.job_id, { type: "data", payload: { worker_id: workerId, pid: 4242, port } });
  sendJobEvent(hive, job.job_id, { type: "done" });
  return workerId;
}

/** Heartbeats `workerId` every 100 ms (the tests' interval is 200 ms) until the test ends, like a live worker. */
export function keepBeating(hive: TestHive, workerId: string, model: string): void {
  const beating = setInterval(() => hive.heartbeat(workerId, model), 100);
  onTestFinished(() => clearInterval(beating));
}

/**
 * A greeted hive named `name` with one ready worker of `model`, once /v1/models lists it. The
 * worker beats like a live one until the test ends: a test that waits a while (for a metrics
 * flush, a charge) still finds it, and the gauges show it.
 */
export async function hiveServing(name: string, model: string): Promise<TestHive> {
  const hive = await TestHive.greeted(name);
  const workerId = await spawnWorker(hive, model);
  keepBeating(hive, workerId, model);
  await eventually(async () => (await listModelIds()).includes(model));
  return hive;
}
