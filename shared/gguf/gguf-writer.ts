// Encodes metadata and F32 tensors into a GGUF v3 file, so tests and the demo can build real
// llama.cpp models without downloading any.
//
// Layout (all little-endian): header, metadata key/values, tensor infos, padding to the alignment,
// then tensor data with every tensor starting on an aligned offset relative to the data section.

/** Byte alignment of the data section and of every tensor in it; written as `general.alignment`. */
export const GGUF_ALIGNMENT = 32;

const GGUF_MAGIC = "GGUF";
const GGUF_VERSION = 3;

// Value type ids from the GGUF spec (only the ones this writer emits).
const ValueType = {
  Uint32: 4,
  Int32: 5,
  Float32: 6,
  Bool: 7,
  String: 8,
  Array: 9
} as const;

// ggml tensor type id for F32.
const GGML_TYPE_F32 = 0;

/** A typed metadata value. The type is explicit because llama.cpp checks it (token_type must be i32). */
export type GgufValue =
  | { type: "u32"; value: number }
  | { type: "i32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "string[]"; value: readonly string[] }
  | { type: "f32[]"; value: readonly number[] | Float32Array }
  | { type: "i32[]"; value: readonly number[] | Int32Array };

/** An F32 tensor; `shape` is in ggml order (contiguous dimension first). */
export interface GgufTensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

/** Growable little-endian byte sink; chunks are concatenated once at the end. */
class ByteWriter {
  private readonly chunks: Buffer[] = [];
  length = 0;

  private push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  u32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    this.push(b);
  }

  i32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value);
    this.push(b);
  }

  u64(value: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    this.push(b);
  }

  f32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.push(b);
  }

  bool(value: boolean): void {
    this.push(Buffer.from([value ? 1 : 0]));
  }

  /** GGUF strings are a u64 byte length followed by UTF-8 bytes, no terminator. */
  string(value: string): void {
    const bytes = Buffer.from(value, "utf8");
    this.u64(bytes.length);
    this.push(bytes);
  }

  bytes(value: Uint8Array): void {
    this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }

  padTo(alignment: number): void {
    const padding = (alignment - (this.length % alignment)) % alignment;
    if (padding > 0) this.push(Buffer.alloc(padding));
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

function writeValue(w: ByteWriter, v: GgufValue): void {
  switch (v.type) {
    case "u32":
      w.u32(ValueType.Uint32);
      w.u32(v.value);
      return;
    case "i32":
      w.u32(ValueType.Int32);
      w.i32(v.value);
      return;
    case "f32":
      w.u32(ValueType.Float32);
      w.f32(v.value);
      return;
    case "bool":
      w.u32(ValueType.Bool);
      w.bool(v.value);
      return;
    case "string":
      w.u32(ValueType.String);
      w.string(v.value);
      return;
    case "string[]":
      w.u32(ValueType.Array);
      w.u32(ValueType.String);
      w.u64(v.value.length);
      for (const s of v.value) w.string(s);
      return;
    case "f32[]":
      w.u32(ValueType.Array);
      w.u32(ValueType.Float32);
      w.u64(v.value.length);
      for (const x of v.value) w.f32(x);
      return;
    case "i32[]":
      w.u32(ValueType.Array);
      w.u32(ValueType.Int32);
      w.u64(v.value.length);
      for (const x of v.value) w.i32(x);
      return;
  }
}

/**
 * Encodes a GGUF v3 file. Metadata is written in the given order followed by `general.alignment`
 * (added here because the tensor layout depends on it); tensors are written in the given order.
 */
export function encodeGguf(
  metadata: ReadonlyArray<readonly [string, GgufValue]>,
  tensors: readonly GgufTensor[]
): Uint8Array {
  const keys = new Set<string>();
  for (const [key] of metadata) {
    if (key === "general.alignment") throw new Error("general.alignment is set by encodeGguf");
    if (keys.has(key)) throw new Error(`duplicate GGUF metadata key: ${key}`);
    keys.add(key);
  }
  for (const t of tensors) {
    const elements = t.shape.reduce((a, b) => a * b, 1);
    if (elements !== t.data.length) {
      const shape = t.shape.join(", ");
      throw new Error(`tensor ${t.name}: shape [${shape}] needs ${elements} values, got ${t.data.length}`);
    }
  }
  const allMetadata: ReadonlyArray<readonly [string, GgufValue]> = [
    ...metadata,
    ["general.alignment", { type: "u32", value: GGUF_ALIGNMENT }]
  ];

  const w = new ByteWriter();
  w.bytes(Buffer.from(GGUF_MAGIC, "ascii"));
  w.u32(GGUF_VERSION);
  w.u64(tensors.length);
  w.u64(allMetadata.length);
  for (const [key, value] of allMetadata) {
    w.string(key);
    writeValue(w, value);
  }

  // Tensor offsets are relative to the start of the (aligned) data section.
  let offset = 0;
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.shape.length);
    for (const dim of t.shape) w.u64(dim);
    w.u32(GGML_TYPE_F32);
    w.u64(offset);
    offset += alignUp(t.data.byteLength, GGUF_ALIGNMENT);
  }

  w.padTo(GGUF_ALIGNMENT);
  for (const t of tensors) {
    // Float32Array uses platform byte order; GGUF is little-endian, as is every platform Node ships on.
    w.bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    w.padTo(GGUF_ALIGNMENT);
  }
  return w.toBuffer();
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}
