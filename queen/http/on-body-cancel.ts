// Wraps a response so that a client that stops reading its body triggers a callback. The
// request's abort signal says the same thing, but the two reach the Worker by different routes
// (through wrangler's dev proxy, the signal was seen to lag or go missing under load), and a
// cancel that never arrives leaves a worker generating for nobody.
import { tapStream } from "../streams/tap-stream.js";

export function onBodyCancel(response: Response, onCancel: () => void): Response {
  if (!response.body) return response;
  return new Response(tapStream(response.body, { onCancel }), response);
}
