// A relayed answer's body that survives the loss of the HiveSession streaming it: the inference
// route reads the hive's answer through the HiveSession Durable Object, and a deploy (or any
// reset of that object) breaks that stream while the worker and the hive go on. On a broken read
// this asks for the rest from the byte it had passed on (the hive holds it: relay-flow.ts) and
// goes on reading that, so the client reads one uninterrupted body. Only when no rest can be had
// does the reader see the failure, and the route's failover (spliced-stream.ts) takes it from there.
//
// Used by scheduling/leased-relay.ts, which knows how to ask the hive for the rest.

import { joinBytes } from "./join-bytes.js";

export interface ResumableBodyOptions {
  /** The rest of the body from byte `offset`, or undefined when it cannot be had. */
  resume: (offset: number) => Promise<ReadableStream<Uint8Array> | undefined>;
  /** Resumes tried at most, per body. Default 3. */
  maxResumes?: number;
}

export function resumableBody(first: ReadableStream<Uint8Array>, options: ResumableBodyOptions): ReadableStream<Uint8Array> {
  const maxResumes = options.maxResumes ?? 3;
  let reader = first.getReader();
  let resumes = 0;
  /** Bytes passed on to the reader: where a resume goes on from. */
  let offset = 0;
  /** The end of a chunk that stopped inside a character: passed on with the next, so `offset` is always a character boundary. */
  let partial: Uint8Array | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          let read: ReadableStreamReadResult<Uint8Array>;
          try {
            read = await reader.read();
          } catch (error) {
            const rest = resumes < maxResumes ? await options.resume(offset).catch(() => undefined) : undefined;
            if (!rest) {
              controller.error(error);
              return;
            }
            resumes += 1;
            partial = undefined;
            reader = rest.getReader();
            continue;
          }
          if (read.done) {
            if (partial) controller.enqueue(partial);
            controller.close();
            return;
          }
          const chunk = partial ? joinBytes([partial, read.value]) : read.value;
          const whole = chunk.byteLength - incompleteTail(chunk);
          partial = whole < chunk.byteLength ? chunk.slice(whole) : undefined;
          if (whole === 0) continue;
          offset += whole;
          controller.enqueue(whole === chunk.byteLength ? chunk : chunk.subarray(0, whole));
          return;
        }
      },
      async cancel(reason) {
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}

/** How many bytes at the end of `bytes` begin a UTF-8 character that is not complete in it. */
export function incompleteTail(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.byteLength); back += 1) {
    const byte = bytes[bytes.byteLength - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: its lead is further back
    if ((byte & 0x80) === 0) return 0; // ASCII
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
    return length > back ? back : 0;
  }
  return 0;
}

