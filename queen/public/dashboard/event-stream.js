// @ts-check
// Follows the queen's dashboard feed, GET /v1/dashboard/events (shared/dashboard/ names the
// path and events), with fetch and a stream reader: EventSource cannot send the Authorization
// header. A refused key (401/403) stops it with the queen's message; a dropped or ended stream
// reconnects with capped, jittered backoff, so a queen deploy does not bring every tab back at once.
import { SseParser } from "./sse-parser.js";

/** @typedef {import("../../../shared/dashboard/dashboard-snapshot.js").DashboardSnapshot} DashboardSnapshot */

/**
 * @typedef {object} FeedHandlers
 * @property {(snapshot: DashboardSnapshot) => void} onSnapshot
 * @property {(message: string) => void} onProblem  the queen could not build a snapshot, or the connection failed
 * @property {(message: string) => void} onRefused  the key was refused: the feed has stopped
 * @property {(state: "connecting" | "live" | "reconnecting") => void} onState
 */

const EVENTS_PATH = "/v1/dashboard/events";
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

/**
 * @param {string} key the admin API key
 * @param {FeedHandlers} handlers
 * @returns {{ close(): void }}
 */
export function followDashboard(key, handlers) {
  const stop = new AbortController();
  void run(key, handlers, stop.signal);
  return { close: () => stop.abort() };
}

/**
 * @param {string} key
 * @param {FeedHandlers} handlers
 * @param {AbortSignal} signal
 */
async function run(key, handlers, signal) {
  let failures = 0;
  while (!signal.aborted) {
    handlers.onState(failures === 0 ? "connecting" : "reconnecting");
    try {
      const response = await fetch(EVENTS_PATH, { headers: { authorization: `Bearer ${key}`, accept: "text/event-stream" }, signal, cache: "no-store" });
      if (response.status === 401 || response.status === 403) {
        handlers.onRefused(await errorMessage(response));
        return;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}: ${await errorMessage(response)}`);
      handlers.onState("live");
      failures = 0;
      await readEvents(response.body, handlers);
      // The queen ends a stream after a while; come back at once.
    } catch (error) {
      if (signal.aborted) return;
      failures += 1;
      handlers.onProblem(`Lost the queen (${error instanceof Error ? error.message : String(error)}); retrying…`);
      await sleep(retryDelayMs(failures), signal);
    }
  }
}

/**
 * @param {ReadableStream<Uint8Array>} body
 * @param {FeedHandlers} handlers
 */
async function readEvents(body, handlers) {
  const parser = new SseParser();
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    for (const event of parser.push(value)) {
      if (event.event === "snapshot") handlers.onSnapshot(JSON.parse(event.data));
      else if (event.event === "problem") handlers.onProblem(JSON.parse(event.data).message);
    }
  }
}

/** @param {Response} response */
async function errorMessage(response) {
  try {
    const body = await response.json();
    return typeof body?.error?.message === "string" ? body.error.message : `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

/** @param {number} failures */
function retryDelayMs(failures) {
  const capped = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (failures - 1));
  return capped / 2 + Math.random() * (capped / 2);
}

/**
 * @param {number} ms
 * @param {AbortSignal} signal
 */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve(undefined);
    }, { once: true });
  });
}
