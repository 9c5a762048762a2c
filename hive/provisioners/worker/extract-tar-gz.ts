// Unpacks a worker release archive (`.tar.gz`, as `npm run release:worker` writes it) into a
// catalog entry's folder, for the GitHub-releases vendor. Release assets come from whoever the
// hive's admins point at, so this reads the tar format itself and accepts only what a worker
// bundle holds: regular files and folders whose paths stay inside the target. Links, devices and
// absolute or `..` paths are refused, not skipped, and the archive's unpacked size is capped, so a
// gzip bomb fails fast instead of filling the disk. Reading it ourselves also means no `tar`
// command (Windows has one only since 1803) and no dependency.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { RbeeError } from "../../../shared/errors.js";
import { printable } from "../../catalog/artifact-id.js";
import { METADATA_FILE } from "../../catalog/filesystem-catalog.js";

/** The most an archive may unpack to: a worker bundle is a few MiB, so this is generous. */
export const MAX_UNPACKED_BYTES = 512 * 1024 ** 2;

const BLOCK = 512;
/** Names a catalog entry's folder holds besides the bundle (its metadata, the link to node-llama-cpp, partial downloads), which an archive must not overwrite. */
const reservedTop = (name: string) => name === METADATA_FILE || name === "node_modules" || /\.part(\.json)?$/.test(name);

/** Unpacks `archive` (the gzipped tar's bytes) under `folder`; returns the files' paths, relative, with `/`. */
export async function extractTarGz(archive: Uint8Array, folder: string, label: string, maxBytes: number = MAX_UNPACKED_BYTES): Promise<string[]> {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive, { maxOutputLength: maxBytes });
  } catch (error) {
    const why = error instanceof RangeError ? `unpacks to more than ${maxBytes} bytes` : "is not a gzip file";
    throw refused(label, why);
  }
  const files: string[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break; // the end-of-archive blocks
    if (!checksumMatches(header)) throw refused(label, `has a corrupt header at byte ${offset}`);
    const size = octal(header.subarray(124, 136));
    const type = String.fromCharCode(header[156] ?? 0);
    const bodyStart = offset + BLOCK;
    const body = tar.subarray(bodyStart, bodyStart + size);
    if (body.length !== size) throw refused(label, "ends in the middle of a file");
    offset = bodyStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "x" || type === "L") {
      // A pax header (`<len> path=<name>\n`) or GNU long name: the name of the next entry.
      longName = type === "L" ? text(body) : (/(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString("utf8"))?.[1] ?? longName);
      continue;
    }
    if (type === "g") continue; // global pax settings: nothing a bundle needs
    const prefix = text(header.subarray(345, 500));
    const name = longName ?? (prefix ? `${prefix}/${text(header.subarray(0, 100))}` : text(header.subarray(0, 100)));
    longName = undefined;
    const relative = checkEntryPath(name, label);
    if (type === "5") {
      if (relative !== "") await mkdir(path.join(folder, relative), { recursive: true });
      continue;
    }
    if (type !== "0" && type !== "\0") throw refused(label, `holds '${printable(name)}', which is not a regular file or folder (tar type '${printable(type)}')`);
    if (relative === "") throw refused(label, "holds a file without a name");
    const target = path.join(folder, relative);
    await mkdir(path.dirname(target), { recursive: true });
    // 0o755 for files marked executable (a native helper), else 0o644: never setuid or world-writable.
    await writeFile(target, body, { mode: octal(header.subarray(100, 108)) & 0o111 ? 0o755 : 0o644, flag: "wx" });
    files.push(relative);
  }
  return files;
}

/** A member's path as a relative path with `/`, refusing anything that could leave the folder. */
function checkEntryPath(name: string, label: string): string {
  const cleaned = name.replace(/^\.\//, "").split("/").filter((segment) => segment !== "");
  // eslint-disable-next-line no-control-regex
  if (name.startsWith("/") || name.includes("\\") || /[\u0000-\u001f:]/.test(name) || cleaned.some((segment) => segment === "." || segment === "..")) {
    throw refused(label, `holds '${printable(name)}', a path that could leave the worker's folder`);
  }
  if (cleaned[0] !== undefined && reservedTop(cleaned[0])) throw refused(label, `holds '${printable(name)}', a name the catalog keeps for itself`);
  return cleaned.join("/");
}

function checksumMatches(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return sum === octal(header.subarray(148, 156));
}

function octal(field: Buffer): number {
  const value = text(field).trim();
  return value === "" ? 0 : Number.parseInt(value, 8);
}

/** A NUL-terminated header field. */
function text(field: Buffer): string {
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString("utf8");
}

function refused(label: string, why: string): RbeeError {
  return new RbeeError(502, "worker_archive_invalid", `the worker archive ${label} ${why}; it was not installed. Use an archive made by npm run release:worker`);
}
