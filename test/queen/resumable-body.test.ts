// The route's resumable body (queen/streams/resumable-body.ts): a body that breaks goes on from
// the byte it had passed on, never from inside a character, and the reader sees the break only
// when no rest can be had.
import { describe, expect, it } from "vitest";
import { incompleteTail, resumableBody } from "../../queen/streams/resumable-body.js";

const encoder = new TextEncoder();

/** A body that sends `parts` (one per read) and then fails, or ends when `fails` is false. */
function body(parts: Uint8Array[], fails: boolean): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const part = parts[next++];
        if (part !== undefined) controller.enqueue(part);
        else if (fails) controller.error(new Error("Durable Object reset"));
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

describe("resumable body", () => {
  it("goes on from the byte it passed on, holding back half a character until the rest comes", async () => {
    const whole = encoder.encode("data: héllo wörld\n\n");
    // The first body breaks after "data: h" and the first byte of "é".
    const cut = encoder.encode("data: h").byteLength + 1;
    const offsets: number[] = [];
    const stream = resumableBody(body([whole.subarray(0, cut)], true), {
      resume: async (offset) => {
        offsets.push(offset);
        return body([whole.subarray(offset)], false);
      },
    });
    expect(await new Response(stream).text()).toBe("data: héllo wörld\n\n");
    expect(offsets).toEqual([cut - 1]);
  });

  it("fails with the break when no rest can be had", async () => {
    const stream = resumableBody(body([encoder.encode("data: a\n\n")], true), { resume: async () => undefined });
    await expect(new Response(stream).text()).rejects.toThrow("Durable Object reset");
  });

  it("gives up after maxResumes breaks", async () => {
    let resumes = 0;
    const stream = resumableBody(body([], true), {
      resume: async () => {
        resumes += 1;
        return body([], true);
      },
      maxResumes: 2,
    });
    await expect(new Response(stream).text()).rejects.toThrow();
    expect(resumes).toBe(2);
  });

  it("counts the bytes of an incomplete character at the end of a chunk", () => {
    expect(incompleteTail(encoder.encode("abc"))).toBe(0);
    expect(incompleteTail(encoder.encode("é"))).toBe(0);
    expect(incompleteTail(encoder.encode("é").subarray(0, 1))).toBe(1);
    expect(incompleteTail(encoder.encode("a€").subarray(0, 3))).toBe(2);
    expect(incompleteTail(encoder.encode("😀").subarray(0, 3))).toBe(3);
  });
});
