// Drill: the disk fills up while a model downloads. Where this machine lets us (root on Linux) the
// catalog lives on a small tmpfs and another writer takes its last bytes mid-download, so the
// download's own write hits ENOSPC; elsewhere a free-space probe reports the disk full after the
// first bytes, as the periodic re-check would see it. Either way the job must end with a clean
// insufficient_disk_space error naming the folder, the partial file must stay, and once space is
// freed asking again must resume from it instead of starting over.
import { execFileSync } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import { FakeHub, sha256 } from "../support/fake-hub.js";
import { recordingListener } from "../support/model-fixture.js";
import { createModelProvisioner } from "../../hive/provisioners/model/model-vendors.js";

const GGUF = createTinyLlamaGguf();
const REPO = "drill/disk-full";
const FILE = "tiny.gguf";
const ID = `hf:${REPO}:${FILE}`;
const root = mkdtempSync(path.join(tmpdir(), "rbee-disk-full-"));
const mounted = tryMountTmpfs(root, 2 * 1024 * 1024);

afterAll(() => {
  if (mounted) execFileSync("umount", [root]);
  rmSync(root, { recursive: true, force: true });
});

/** A 2 MiB tmpfs at `folder`, when this process may mount one. */
function tryMountTmpfs(folder: string, bytes: number): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", folder], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Takes every free byte of the filesystem holding `filePath`, as another program filling the disk would. */
function fillDisk(filePath: string): number {
  const fd = openSync(filePath, "w");
  const chunk = Buffer.alloc(16 * 1024, 1);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    closeSync(fd);
  }
  return written;
}

describe("drill: a disk that fills during a download", () => {
  it("ends the job with a clean error, keeps the partial file, and resumes from it once there is room", async () => {
    const hub = await FakeHub.start({ repos: [{ id: REPO, files: [{ path: FILE, bytes: GGUF, bytesPerSecond: 512 * 1024 }] }] });
    try {
      const cacheDir = path.join(root, "cache");
      await mkdir(cacheDir, { recursive: true });
      const filler = path.join(root, "filler");
      let simulatedFree = Number.MAX_SAFE_INTEGER;
      let filledAt = -1;
      const fill = (bytes: number) => {
        if (filledAt >= 0 || bytes < 64 * 1024) return;
        filledAt = bytes;
        if (mounted) fillDisk(filler);
        else simulatedFree = 0;
      };
      const download = mounted
        ? { diskMarginBytes: 0, progressIntervalMs: 0, diskCheckEveryBytes: 1024 ** 3 } // the write itself meets ENOSPC
        : { diskMarginBytes: 0, progressIntervalMs: 0, diskCheckEveryBytes: 32 * 1024, freeBytes: async () => simulatedFree };
      const env = { HF_ENDPOINT: hub.url, HF_TOKEN_PATH: path.join(root, "no-token") };
      const models = createModelProvisioner({ cacheDir, env, download: { ...download, retryBaseMs: 10, retryMaxMs: 50 } });

      const failure = await models.provision({ id: ID, source: ID }, AbortSignal.timeout(30_000), recordingListener(fill)).then(
        () => new Error("the download succeeded on a full disk") as Error & { code?: string },
        (error: unknown) => error as Error & { code?: string },
      );
      const folder = models.catalog.folderOf(ID);
      const partBytes = (await stat(path.join(folder, `${FILE}.part`))).size;
      console.log(
        `disk-full drill: ${mounted ? "2 MiB tmpfs, filled by another writer" : "simulated full disk (free-space probe)"}; ` +
          `filled at byte ${filledAt} of ${GGUF.length}; the job ended ${failure.code ?? "?"}: ${failure.message}; ${partBytes} bytes kept in the part`,
      );
      expect(failure).toMatchObject({ status: 507, code: "insufficient_disk_space" });
      expect(failure.message).toContain(folder);
      expect(failure.message).toMatch(/downloaded so far are kept, so asking for the model again resumes from there/);
      expect(partBytes).toBeGreaterThan(0);

      if (mounted) await rm(filler);
      simulatedFree = Number.MAX_SAFE_INTEGER;
      const listener = recordingListener();
      const entry = await models.provision({ id: ID, source: ID }, AbortSignal.timeout(30_000), listener);
      const resumedFrom = Number(/bytes=(\d+)-/.exec(hub.seen(`/${FILE}`, "GET").at(-1)?.range ?? "")?.[1] ?? 0);
      console.log(`disk-full drill: after freeing the space the download resumed from byte ${resumedFrom} and ended ${entry.status.state} (SHA-256 ${entry.details?.sha256})`);
      expect(entry.status.state).toBe("available");
      expect(entry.details?.sha256).toBe(sha256(GGUF));
      expect(resumedFrom).toBeGreaterThan(0);
      expect(resumedFrom).toBeLessThanOrEqual(partBytes);
    } finally {
      await hub.close();
    }
  });
});
