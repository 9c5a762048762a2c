// The release archive reader against archives written by the release script's writer, by the
// system's tar, and crafted to escape: only regular files and folders inside the target unpack.
import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { execa } from "execa";
import { beforeEach, describe, expect, it } from "vitest";
import { tarGz } from "../../../shared/archive/write-tar-gz.js";
import { extractTarGz } from "./extract-tar-gz.js";

let dir: string;
let target: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-tar-"));
  target = path.join(dir, "entry");
  return () => rm(dir, { recursive: true, force: true });
});

const file = (name: string, text = name) => ({ name, bytes: Buffer.from(text) });

/** The archive with its first header's type byte set to `type` (and its checksum fixed). */
function retyped(archive: Buffer, type: string): Buffer {
  const tar = gunzipSync(archive);
  tar.write(type, 156, 1, "ascii");
  tar.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += tar[i] ?? 0;
  tar.write(`${sum.toString(8).padStart(6, "0")}\u0000`, 148, 7, "ascii");
  return gzipSync(tar);
}

async function refusal(archive: Buffer, maxBytes?: number): Promise<Error> {
  return extractTarGz(archive, target, "test.tar.gz", maxBytes).then(
    () => new Error("the archive was unpacked"),
    (error: Error) => error,
  );
}

describe("extracting worker archives", () => {
  it("unpacks the release writer's files and folders, with their contents", async () => {
    const long = `chunks/${"a".repeat(90)}/${"b".repeat(60)}.mjs`;
    const files = await extractTarGz(tarGz([file("worker.mjs"), file("chunks/x.mjs", "x".repeat(1000)), file(long)], 0), target, "test.tar.gz");
    expect(files).toEqual(["worker.mjs", "chunks/x.mjs", long]);
    expect(await readFile(path.join(target, "chunks", "x.mjs"), "utf8")).toBe("x".repeat(1000));
    expect(await readFile(path.join(target, long), "utf8")).toBe(long);
    expect((await stat(path.join(target, "worker.mjs"))).mode & 0o777).toBe(0o644);
  });

  it.skipIf(process.platform === "win32")("unpacks an archive made by the system's tar", async () => {
    const source = path.join(dir, "source");
    await execa("mkdir", ["-p", path.join(source, "chunks")]);
    await writeFile(path.join(source, "worker.mjs"), "w");
    await writeFile(path.join(source, "chunks", "c.mjs"), "c");
    await execa("tar", ["-czf", path.join(dir, "made.tar.gz"), "-C", source, "."]);
    const files = await extractTarGz(await readFile(path.join(dir, "made.tar.gz")), target, "made.tar.gz");
    expect(files.sort()).toEqual(["chunks/c.mjs", "worker.mjs"]);
  });

  it.each([
    ["../evil.mjs", "a path that could leave the worker's folder"],
    ["chunks/../../evil.mjs", "a path that could leave the worker's folder"],
    ["/etc/evil", "a path that could leave the worker's folder"],
    ["sub\\..\\evil", "a path that could leave the worker's folder"],
    ["metadata.json", "a name the catalog keeps for itself"],
    ["node_modules/node-llama-cpp/index.js", "a name the catalog keeps for itself"],
    ["worker.mjs.part", "a name the catalog keeps for itself"],
  ])("refuses a member named %j: %s", async (name, why) => {
    const error = await refusal(tarGz([file(name)], 0));
    expect(error).toMatchObject({ code: "worker_archive_invalid", message: expect.stringContaining(why) });
    // Nothing beside the target folder (which may hold the folders unpacked before the refusal).
    expect((await readdir(dir)).filter((name) => name !== "entry")).toEqual([]);
  });

  it.each([
    ["2", "a symbolic link"],
    ["1", "a hard link"],
    ["3", "a character device"],
  ])("refuses a member of tar type %s (%s), naming it", async (type) => {
    const error = await refusal(retyped(tarGz([file("worker.mjs")], 0), type));
    expect(error.message).toContain(`holds 'worker.mjs', which is not a regular file or folder (tar type '${type}')`);
  });

  it("refuses what is not gzip, a corrupt header, and an archive that unpacks to more than the cap", async () => {
    expect((await refusal(Buffer.from("not an archive"))).message).toContain("is not a gzip file");
    const corrupt = gunzipSync(tarGz([file("worker.mjs")], 0));
    corrupt.write("X", 0, 1, "ascii");
    expect((await refusal(gzipSync(corrupt))).message).toContain("has a corrupt header at byte 0");
    expect((await refusal(tarGz([file("worker.mjs", "x".repeat(64 * 1024))], 0), 16 * 1024)).message).toContain("unpacks to more than 16384 bytes");
  });

  it.skipIf(process.platform === "win32")("never writes through a link already in the folder", async () => {
    await execa("mkdir", ["-p", target]);
    await symlink(path.join(dir, "outside.mjs"), path.join(target, "worker.mjs"));
    await expect(extractTarGz(tarGz([file("worker.mjs")], 0), target, "test.tar.gz")).rejects.toMatchObject({ code: "EEXIST" });
    await expect(stat(path.join(dir, "outside.mjs"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
