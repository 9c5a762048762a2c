// Job events carry texts from many places (a hub's error, a list of release assets); the queen
// refuses a frame whose texts exceed its schema's limits whole, which would lose the event, or
// worse the job's end. Texts are cut to fit before they leave the hive.
import type { JobEvent } from "../../shared/protocol/job-event.js";
import { MAX_LABEL_CHARS, MAX_MESSAGE_CHARS } from "../../shared/protocol/text-limits.js";

/** Cuts messages to what the queen accepts, so a long one never costs the whole event (or the job's end). */
export function clampJobEvent(event: JobEvent): JobEvent {
  const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
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
