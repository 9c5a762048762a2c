// The requests a frame the queen could not read was about. A response frame refused as invalid
// (a status out of range, a chunk that is not text) leaves its answer short of the head, chunk or
// end it carried, and a batch is refused whole, so every answer it carried a frame of is short of
// one. HiveSession fails those relays at once (502) rather than leave their clients waiting for
// the deadline.

import { isRecord } from "../../shared/is-record.js";

/** The distinct `requestId`s the frame's JSON names: its own, or its frames' if it is a batch. */
export function requestIdsNamedIn(json: unknown): string[] {
  const frames = isRecord(json) && json.type === "batch" && Array.isArray(json.frames) ? json.frames : [json];
  const ids = new Set<string>();
  for (const frame of frames) {
    if (isRecord(frame) && typeof frame.requestId === "string") ids.add(frame.requestId);
  }
  return [...ids];
}
