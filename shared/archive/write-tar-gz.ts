// Writes a gzipped ustar archive of a folder: `npm run release:worker` makes worker releases with it
// and the hive's tests make archives to unpack (in shared/ for both). The reading side is
// hive/provisioners/worker/extract-tar-gz.ts. Byte-for-byte reproducible (sorted entries, fixed
// owner, modes and time, gzip without a timestamp), so a release built twice from one commit has
// one sha256. Only regular files and folders, as the hive accepts nothing else.
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";

const BLOCK = 512;

export interface TarFile {
  /** Path inside the archive, with `/`. */
  name: string;
  bytes: Uint8Array;
}

/** Every file under `folder` (recursively), as archive entries, sorted by name. */
export async function filesUnder(folder: string): Promise<TarFile[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const files: TarFile[] = [];
  for (const entry of entries) {
    const full = path.join(entry.parentPath, entry.name);
    if (!(await stat(full)).isFile()) continue;
    files.push({ name: path.relative(folder, full).split(path.sep).join("/"), bytes: await readFile(full) });
  }
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The `.tar.gz` bytes of `files`, each folder on their paths written once before its files. */
export function tarGz(files: readonly TarFile[], mtimeSeconds: number): Buffer {
  const blocks: Buffer[] = [];
  const folders = new Set<string>();
  for (const file of files) {
    const parts = file.name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const folder = `${parts.slice(0, i).join("/")}/`;
      if (folders.has(folder)) continue;
      folders.add(folder);
      blocks.push(header(folder, 0, "5", 0o755, mtimeSeconds));
    }
    blocks.push(header(file.name, file.bytes.length, "0", 0o644, mtimeSeconds), Buffer.from(file.bytes));
    const padding = (BLOCK - (file.bytes.length % BLOCK)) % BLOCK;
    if (padding > 0) blocks.push(Buffer.alloc(padding));
  }
  blocks.push(Buffer.alloc(2 * BLOCK)); // end of archive
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}

function header(name: string, size: number, type: string, mode: number, mtimeSeconds: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  // ustar keeps names up to 100 bytes, or 155 more in the prefix field, split at a `/`.
  let prefix = "";
  let rest = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf("/", name.length - 2);
    prefix = name.slice(0, cut);
    rest = name.slice(cut + 1);
    if (cut <= 0 || Buffer.byteLength(rest) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`path too long for a ustar archive: ${name}`);
  }
  block.write(rest, 0, 100, "utf8");
  writeOctal(block, 100, 8, mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, mtimeSeconds);
  block.write(type, 156, 1, "ascii");
  block.write("ustar\u000000", 257, 8, "ascii");
  block.write(prefix, 345, 155, "utf8");
  // The checksum is computed with its own field as eight spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeOctal(block, 148, 7, sum);
  return block;
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, "0")}\u0000`, offset, length, "ascii");
}
