// Whether a response is a server-sent-event stream (shared/http/event-stream.ts): the relay treats
// those apart (they are spliced, resumed, cut at the deadline, reworded and translated event by event).
import { isEventStreamType } from "../../shared/http/event-stream.js";

export function isEventStream(response: Response): boolean {
  return isEventStreamType(response.headers.get("content-type"));
}
