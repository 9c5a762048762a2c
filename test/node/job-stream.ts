// Test support for jobs against a real queen: submit one, and read its Server-Sent Events to the end.
import type { StampedJobEvent } from "../../shared/protocol/job-event.js";
import type { LocalCloud } from "./local-cloud.js";

export async function call(cloud: LocalCloud, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(cloud.queen.url + path, {
    method,
    headers: { authorization: `Bearer ${cloud.apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** Reads a job's stream (its `stream_url`, a path on the queen) until the queen closes it after the terminal event. */
export async function jobEvents(cloud: LocalCloud, streamPath: string, timeoutMs = 60_000): Promise<StampedJobEvent[]> {
  const streamUrl = new URL(streamPath, cloud.queen.url);
  const response = await fetch(streamUrl, { headers: { authorization: `Bearer ${cloud.apiKey}` }, signal: AbortSignal.timeout(timeoutMs) });
  if (response.status !== 200) throw new Error(`${streamUrl} answered ${response.status}: ${await response.text()}`);
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((block) => block.includes("data: "))
    .map((block) => JSON.parse(block.slice(block.indexOf("data: ") + "data: ".length).split("\n")[0] ?? "") as StampedJobEvent);
}

/** Submits a job and returns its events once it ended. */
export async function runJob(cloud: LocalCloud, operation: Record<string, unknown>): Promise<{ jobId: string; events: StampedJobEvent[] }> {
  const submitted = await call(cloud, "POST", "/v1/jobs", operation);
  if (submitted.status !== 202) throw new Error(`POST /v1/jobs answered ${submitted.status}: ${JSON.stringify(submitted.json)}`);
  const { job_id: jobId, stream_url: streamUrl } = submitted.json as { job_id: string; stream_url: string };
  return { jobId, events: await jobEvents(cloud, streamUrl) };
}

export function narrationActions(events: StampedJobEvent[]): string[] {
  return events.flatMap((event) => (event.type === "narration" ? [event.action] : []));
}
