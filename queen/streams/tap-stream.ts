// Passes a byte stream through unchanged while telling the caller what goes by: each chunk, the
// end (or failure) of the source, and a cancel by the reader. The inference routes use it to
// give a non-streamed answer's lease back when it ends or its client hangs up
// (scheduling/leased-relay.ts; an event stream's are streams/spliced-stream.ts's `onClose`) and
// to read token usage (usage/observe-usage.ts).

export interface StreamTap {
  /** A chunk on its way to the reader; called before the reader gets it. */
  onChunk?: (chunk: Uint8Array) => void;
  /** The source ended, or failed (`error` set); the reader gets the same end. */
  onEnd?: (error?: unknown) => void;
  /** The reader cancelled (a client that went away); called before the source is cancelled. */
  onCancel?: (reason: unknown) => void;
}

/**
 * A pull-based stream rather than a TransformStream: a TransformStream's `flush` never runs when
 * the reader cancels, and callers must hear about a cancel too. The high-water mark of 0 reads
 * from the source only as fast as the reader reads: nothing is buffered ahead.
 */
export function tapStream(source: ReadableStream<Uint8Array>, tap: StreamTap): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            tap.onEnd?.();
            controller.close();
            return;
          }
          tap.onChunk?.(value);
          controller.enqueue(value);
        } catch (error) {
          tap.onEnd?.(error);
          controller.error(error);
        }
      },
      async cancel(reason) {
        tap.onCancel?.(reason);
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
