// Wraps a response so that a client that stops reading its body triggers a callback. The
// request's abort signal says the same thing, but the two reach the Worker by different routes
// (through wrangler's dev proxy, the signal was seen to lag or go missing under load), and a
// cancel that never arrives leaves a worker generating for nobody.
export function onBodyCancel(response: Response, onCancel: () => void): Response {
  const source = response.body;
  if (!source) return response;
  const reader = source.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel(reason) {
        onCancel();
        await reader.cancel(reason);
      },
    },
    // Pass chunks on as the client reads them; nothing is buffered ahead.
    { highWaterMark: 0 },
  );
  return new Response(body, response);
}
