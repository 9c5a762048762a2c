// What a `.part` file is a part of, kept beside it as `<file>.part.json`, so a later attempt
// resumes only a part of the same file: not one of an older commit of a moving branch, not one
// a different URL left. `validator` is the server's strong ETag or Last-Modified, which a resume
// sends as `If-Range` so a server whose file changed answers with the whole new file instead.
import { readFile, writeFile } from "node:fs/promises";
import { z } from "zod";

const PartRecord = z.object({
  url: z.string(),
  sha256: z.string().nullable(),
  bytes: z.number().int().min(0).nullable(),
  validator: z.string().nullable(),
});
export type PartRecord = z.infer<typeof PartRecord>;

export function partRecordPath(partPath: string): string {
  return `${partPath}.json`;
}

/** The record beside `partPath`; null when there is none or it is unreadable (then the part is not trusted). */
export async function readPartRecord(partPath: string): Promise<PartRecord | null> {
  const raw = await readFile(partRecordPath(partPath), "utf8").catch(() => null);
  if (raw === null) return null;
  try {
    const parsed = PartRecord.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function writePartRecord(partPath: string, record: PartRecord): Promise<void> {
  await writeFile(partRecordPath(partPath), `${JSON.stringify(record)}\n`);
}

/** Whether a part recorded as `recorded` may be resumed to get `wanted`. */
export function samePart(recorded: PartRecord | null, wanted: Omit<PartRecord, "validator">): boolean {
  if (recorded === null) return false;
  // With a published SHA-256 that alone identifies the file (the URL carries a commit that may differ).
  if (wanted.sha256 !== null) return recorded.sha256 === wanted.sha256 && recorded.bytes === wanted.bytes;
  return recorded.url === wanted.url && recorded.sha256 === null;
}
