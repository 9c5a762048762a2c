// Whether an answer is a server-sent-event stream: the relay treats those apart (they are spliced,
// resumed, cut at the deadline, reworded and translated event by event), whatever charset follows
// the type.

export function isEventStreamType(contentType: string | null | undefined): boolean {
  return (contentType ?? "").startsWith("text/event-stream");
}

export function isEventStream(response: Response): boolean {
  return isEventStreamType(response.headers.get("content-type"));
}
