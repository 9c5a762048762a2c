// Whether an answer is a server-sent-event stream, by its content type, whatever charset follows:
// the queen's relay treats those apart (they are spliced, resumed, cut at the deadline, reworded
// and translated event by event), and the hive sends a stream's head with its first text.

export function isEventStreamType(contentType: string | null | undefined): boolean {
  return (contentType ?? "").startsWith("text/event-stream");
}
