// Job events carry texts from many places (a hub's error, a list of release assets); the queen
// refuses a frame whose texts exceed its schema's limits whole, which would lose the event, or
// worse the job's end. Texts are cut to fit before they leave the hive; a data payload cannot be
// cut without changing its meaning, so an oversized one fails its operation instead.
import { RbeeError } from "../../shared/errors.js";
import { type JobEvent, jobDataBytes, MAX_JOB_DATA_BYTES } from "../../shared/protocol/job-event.js";
import { cutToLength as cut, MAX_LABEL_CHARS, MAX_MESSAGE_CHARS } from "../../shared/protocol/text-limits.js";

/** Cuts messages to what the queen accepts, so a long one never costs the whole event (or the job's end). */
export function clampJobEvent(event: JobEvent): JobEvent {
  switch (event.type) {
    case "narration":
      return { ...event, action: cut(event.action, MAX_LABEL_CHARS), message: cut(event.message, MAX_MESSAGE_CHARS) };
    case "error":
      return { ...event, code: cut(event.code, MAX_LABEL_CHARS), message: cut(event.message, MAX_MESSAGE_CHARS) };
    case "cancelled":
      return event.message === undefined ? event : { ...event, message: cut(event.message, MAX_MESSAGE_CHARS) };
    case "progress":
    case "data":
    case "done":
      return event;
    default: {
      const unreachable: never = event;
      throw new Error(`unknown job event ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * The payload of a job's `data` event, if the queen accepts its size; otherwise throws, which
 * fails the operation with a `job_data_too_large` error event instead of an event the queen drops.
 */
export function boundJobData(payload: Record<string, unknown>): Record<string, unknown> {
  const bytes = jobDataBytes(payload);
  if (bytes <= MAX_JOB_DATA_BYTES) return payload;
  throw new RbeeError(
    500,
    "job_data_too_large",
    `the job's result is ${bytes} bytes of JSON, more than the ${MAX_JOB_DATA_BYTES} a job's data event may carry; ask for less (e.g. fewer catalog entries)`,
  );
}
