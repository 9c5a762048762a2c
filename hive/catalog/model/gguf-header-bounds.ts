// Walks a GGUF's header with a reader of our own before node-llama-cpp parses it, to refuse a
// hostile or broken one cheaply. The file comes from anywhere (a URL, a hub repo), and its header
// is only counts and lengths: a header claiming 2^60 metadata entries, a 2^40-byte string or an
// array of 2^40 items would have node-llama-cpp (which reads past the end of a file as zeros)
// loop or allocate until the hive dies. Here every count and length is checked against limits far
// above real models and against the bytes the file really has, skipping over values without
// allocating them, so only a header that fits them reaches node-llama-cpp.
import { type FileHandle, open } from "node:fs/promises";
import { RbeeError } from "../../../shared/errors.js";

export const GGUF_LIMITS = {
  /** Metadata entries (real models: tens to a few hundred). */
  maxMetadataEntries: 65_536,
  /** Tensors (the largest MoE models: tens of thousands). */
  maxTensors: 1_000_000,
  /** One string, bytes (chat templates run to tens of KiB). */
  maxStringBytes: 16 * 1024 * 1024,
  /** Items of one array (vocabularies and merge lists: a few hundred thousand). */
  maxArrayItems: 16 * 1024 * 1024,
  /** Dimensions of one tensor (ggml has 4). */
  maxTensorDimensions: 8,
  /** The whole header, bytes (metadata and tensor infos). */
  maxHeaderBytes: 1024 * 1024 * 1024,
} as const;

const STRING = 8;
const ARRAY = 9;
/** Value type id → bytes, for the fixed-size types (u8 i8 u16 i16 u32 i32 f32 bool, u64 i64 f64). */
const FIXED_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const READ_CHUNK = 1024 * 1024;

/** Throws `invalid_gguf` (422) when the header at `filePath` breaks a limit or runs past the file's end. */
export async function checkGgufHeaderBounds(filePath: string, limits: typeof GGUF_LIMITS = GGUF_LIMITS): Promise<void> {
  const handle = await open(filePath, "r");
  try {
    const cursor = new Cursor(handle, (await handle.stat()).size, filePath, limits.maxHeaderBytes);
    if ((await cursor.bytes(4)).toString("latin1") !== "GGUF") throw cursor.invalid("it does not start with the GGUF magic");
    const version = await cursor.u32();
    if (version < 2 || version > 3) throw cursor.invalid(`it is GGUF version ${version}; versions 2 and 3 are read`);
    const tensors = await cursor.count("tensors", limits.maxTensors);
    const entries = await cursor.count("metadata entries", limits.maxMetadataEntries);
    for (let entry = 0; entry < entries; entry++) {
      await cursor.string(limits.maxStringBytes);
      await skipValue(cursor, await cursor.u32(), limits, 0);
    }
    for (let tensor = 0; tensor < tensors; tensor++) {
      await cursor.string(limits.maxStringBytes);
      const dimensions = await cursor.u32();
      if (dimensions > limits.maxTensorDimensions) throw cursor.invalid(`a tensor claims ${dimensions} dimensions (at most ${limits.maxTensorDimensions})`);
      cursor.skip(dimensions * 8 + 4 + 8); // the dimensions, the ggml type, the data offset
    }
    cursor.skip(0); // the tensor infos must end inside the file too
  } finally {
    await handle.close();
  }
}

async function skipValue(cursor: Cursor, type: number, limits: typeof GGUF_LIMITS, depth: number): Promise<void> {
  const fixed = FIXED_SIZE[type];
  if (fixed !== undefined) return cursor.skip(fixed);
  if (type === STRING) return void (await cursor.string(limits.maxStringBytes));
  if (type !== ARRAY) throw cursor.invalid(`a metadata value has unknown type ${type}`);
  if (depth > 2) throw cursor.invalid("its arrays nest deeper than 3");
  const itemType = await cursor.u32();
  const items = await cursor.count("array items", limits.maxArrayItems);
  const itemSize = FIXED_SIZE[itemType];
  if (itemSize !== undefined) return cursor.skip(items * itemSize);
  for (let item = 0; item < items; item++) await skipValue(cursor, itemType, limits, depth + 1);
}

/** Reads forward through the file in 1 MiB windows; never holds more than one. */
class Cursor {
  private window = Buffer.alloc(0);
  private windowStart = 0;
  offset = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly size: number,
    private readonly filePath: string,
    private readonly maxHeaderBytes: number,
  ) {}

  async bytes(length: number): Promise<Buffer> {
    this.ensureFits(length);
    const from = this.offset - this.windowStart;
    if (from < 0 || from + length > this.window.length) {
      const read = Math.max(length, READ_CHUNK);
      const buffer = Buffer.alloc(Math.min(read, this.size - this.offset));
      await this.handle.read(buffer, 0, buffer.length, this.offset);
      this.window = buffer;
      this.windowStart = this.offset;
    }
    const start = this.offset - this.windowStart;
    this.offset += length;
    return this.window.subarray(start, start + length);
  }

  async u32(): Promise<number> {
    return (await this.bytes(4)).readUInt32LE(0);
  }

  /** A u64 count, refused above `max` before anything is done with it. */
  async count(what: string, max: number): Promise<number> {
    const value = (await this.bytes(8)).readBigUInt64LE(0);
    if (value > BigInt(max)) throw this.invalid(`it claims ${value} ${what} (at most ${max})`);
    return Number(value);
  }

  /** Skips a length-prefixed string after checking its length. */
  async string(maxBytes: number): Promise<void> {
    const length = await this.count("bytes in one string", maxBytes);
    this.skip(length);
  }

  skip(length: number): void {
    this.ensureFits(length);
    this.offset += length;
  }

  invalid(why: string): RbeeError {
    return new RbeeError(422, "invalid_gguf", `'${this.filePath}' is not a GGUF rbee will read: ${why} (at byte ${this.offset} of its header)`);
  }

  private ensureFits(length: number): void {
    const end = this.offset + length;
    if (end > this.size) throw this.invalid(`its header runs past its end (the file has ${this.size} bytes; was it cut off?)`);
    if (end > this.maxHeaderBytes) throw this.invalid(`its header is larger than ${this.maxHeaderBytes} bytes`);
  }
}
