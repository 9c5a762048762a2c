// Whether an answer is a server-sent-event stream: the relay treats those apart (they are spliced,
// resumed, cut at the deadline and reworded event by event), whatever charset follows the type.

export function isEventStream(response: Response): boolean {
  return (response.headers.get("content-type") ?? "").startsWith("text/event-stream");
}
