// A hostile GGUF (one that claims huge counts in its header) is refused with invalid_gguf before
// node-llama-cpp reads it, without allocating what it claims; a real one passes.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTinyLlamaGguf } from "../../../shared/gguf/tiny-llama.js";
import { checkGgufHeaderBounds } from "./gguf-header-bounds.js";
import { readGgufSummary } from "./read-gguf-summary.js";

let folder = "";
beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), "rbee-gguf-bounds-"));
});
afterAll(() => rm(folder, { recursive: true, force: true }));

/** A GGUF v3 header: `tensors` and `entries` counts, then `body` (the entries as raw bytes), padded with zeros. */
function header(tensors: bigint, entries: bigint, body: Buffer, padding = 4096): Buffer {
  const head = Buffer.alloc(24);
  head.write("GGUF", 0, "latin1");
  head.writeUInt32LE(3, 4);
  head.writeBigUInt64LE(tensors, 8);
  head.writeBigUInt64LE(entries, 16);
  return Buffer.concat([head, body, Buffer.alloc(padding)]);
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}

function u64(value: bigint): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64LE(value);
  return buffer;
}

function key(name: string): Buffer {
  return Buffer.concat([u64(BigInt(name.length)), Buffer.from(name)]);
}

async function file(name: string, bytes: Uint8Array): Promise<string> {
  const filePath = path.join(folder, name);
  await writeFile(filePath, bytes);
  return filePath;
}

describe("GGUF header bounds", () => {
  it("lets a real model's header through", async () => {
    await expect(checkGgufHeaderBounds(await file("tiny.gguf", createTinyLlamaGguf()))).resolves.toBeUndefined();
  });

  it.each([
    ["2^62 metadata entries", header(0n, 2n ** 62n, Buffer.alloc(0)), /claims 4611686018427387904 metadata entries \(at most 65536\)/],
    ["2^40 tensors", header(2n ** 40n, 0n, Buffer.alloc(0)), /claims 1099511627776 tensors/],
    ["a key 2^40 bytes long", header(0n, 1n, u64(2n ** 40n)), /claims 1099511627776 bytes in one string/],
    ["an array of 2^40 strings", header(0n, 1n, Buffer.concat([key("a"), u32(9), u32(8), u64(2n ** 40n)])), /claims 1099511627776 array items/],
    ["an array of a million u64 in a 4 KiB file", header(0n, 1n, Buffer.concat([key("a"), u32(9), u32(10), u64(1_000_000n)])), /runs past its end \(the file has \d+ bytes/],
    ["more entries than the file holds", header(0n, 60_000n, Buffer.alloc(0), 64), /runs past its end/],
    ["a value of unknown type", header(0n, 1n, Buffer.concat([key("a"), u32(77)])), /unknown type 77/],
  ])("refuses a header claiming %s, cleanly", async (name, bytes, message) => {
    const filePath = await file(`${name.replace(/\W+/g, "-")}.gguf`, bytes);
    const heapBefore = process.memoryUsage().heapUsed;
    await expect(checkGgufHeaderBounds(filePath)).rejects.toMatchObject({ status: 422, code: "invalid_gguf", message: expect.stringMatching(message) });
    await expect(readGgufSummary(filePath)).rejects.toMatchObject({ code: "invalid_gguf" });
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024); // nothing the size of the claim
  });

  it("refuses a real model whose vocabulary count was raised past the file's end", async () => {
    const bytes = Buffer.from(createTinyLlamaGguf());
    const tokens = bytes.indexOf("tokenizer.ggml.tokens");
    // After the key: the ARRAY type (u32), the item type (u32), then the u64 count.
    bytes.writeBigUInt64LE(2n ** 23n, tokens + "tokenizer.ggml.tokens".length + 8);
    await expect(readGgufSummary(await file("raised.gguf", bytes))).rejects.toMatchObject({ code: "invalid_gguf", message: expect.stringMatching(/is not a GGUF rbee will read/) });
  });
});
