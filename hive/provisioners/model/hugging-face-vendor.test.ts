import { readdir, rm, stat, truncate } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RbeeError } from "../../../shared/errors.js";
import { createTinyLlamaGguf } from "../../../shared/gguf/tiny-llama.js";
import { waitUntil } from "../../../shared/wait-until.js";
import { FakeHub, type FakeHubOptions, type FakeRepo, sha256 } from "../../../test/support/fake-hub.js";
import { type ModelFixture, modelFixture, recordingListener } from "../../../test/support/model-fixture.js";
import type { ModelCatalogOptions } from "./model-vendors.js";

const GGUF = createTinyLlamaGguf();
const FILE = "tiny-Q4_K_M.gguf";
const REPO = "org/tiny-GGUF";
const ID = `hf:${REPO}:${FILE}`;
const never = new AbortController().signal;

let hub: FakeHub | undefined;
let fixture: ModelFixture | undefined;

afterEach(async () => {
  await hub?.close();
  await fixture?.cleanup();
  hub = undefined;
  fixture = undefined;
});

async function start(repos: FakeRepo[] = [{ id: REPO, files: [{ path: FILE, bytes: GGUF }] }], options: Partial<ModelCatalogOptions> = {}, hubOptions: Partial<FakeHubOptions> = {}) {
  const started = await FakeHub.start({ repos, ...hubOptions });
  const made = await modelFixture(started, options);
  hub = started;
  fixture = made;
  return { hub: started, fixture: made, models: made.models };
}

async function refusalOf(promise: Promise<unknown>): Promise<RbeeError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof RbeeError)) throw new Error(`expected an RbeeError, got ${String(error)}`);
  return error;
}

/** 0 for no Range header, else N of `bytes=N-`. */
function rangeStart(range: string | null): number {
  return range === null ? 0 : Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? Number.NaN);
}

async function filesIn(models: { catalog: { folderOf(id: string): string } }, id: string): Promise<string[]> {
  return (await readdir(models.catalog.folderOf(id))).sort();
}

describe("Hugging Face vendor", () => {
  it("downloads through the hub's CDN redirect, verifies the published SHA-256 and records the GGUF's facts", async () => {
    const { hub, models } = await start();
    const listener = recordingListener();
    const entry = await models.provision({ id: ID, source: ID }, never, listener);
    expect(entry.status.state).toBe("available");
    expect(entry.sizeBytes).toBe(GGUF.length);
    expect(entry.details).toMatchObject({ vendor: "hugging-face", fileName: FILE, sha256: sha256(GGUF), linked: false, gguf: { architecture: "llama", name: "rbee-tiny" } });
    // HF_ENDPOINT is where everything went, pinned to the commit the hub reported.
    expect(entry.details?.origin).toBe(`${hub.url}/${REPO}/resolve/${hub.commitOf(REPO)}/${FILE}`);
    expect(listener.text()).toMatch(/SHA-256 matches the hub's/);
    expect(listener.reports.at(-1)).toMatchObject({ bytes: GGUF.length, total: GGUF.length });
    expect(await filesIn(models, ID)).toEqual(["metadata.json", FILE]);
    expect(await models.catalog.contains(ID)).toBe(true);
  });

  it("resumes with Range when the connection is cut mid-file and ends with the right SHA-256", async () => {
    const { hub, models } = await start();
    Object.assign(hub.file(REPO, FILE), { cutAfterBytes: 200_000, cutTimes: 2 });
    const listener = recordingListener();
    const entry = await models.provision({ id: ID, source: ID }, never, listener);
    const cdn = hub.seen(`/${FILE}`, "GET").filter((each) => each.path.startsWith("/cdn/"));
    // fetch drops what it buffered but we had not read yet when a connection breaks, so each
    // resume starts at most `cutAfterBytes` after the last.
    const [first, second, third] = cdn.map((each) => rangeStart(each.range));
    expect(cdn).toHaveLength(3);
    expect(first).toBe(0);
    expect(second).toBeGreaterThan(0);
    expect(second).toBeLessThanOrEqual(200_000);
    expect(third).toBeGreaterThan(second ?? 0);
    expect(third).toBeLessThanOrEqual((second ?? 0) + 200_000);
    expect(listener.text()).toMatch(/retry: .*resuming in/);
    expect(entry.details).toMatchObject({ sha256: sha256(GGUF), gguf: { architecture: "llama", contextLength: 4096 } });
    expect(await filesIn(models, ID)).toEqual(["metadata.json", FILE]);
  });

  it("drops a connection that stalls and resumes where it stopped", async () => {
    const { hub, models } = await start(undefined, { download: { stallTimeoutMs: 300 } });
    Object.assign(hub.file(REPO, FILE), { cutAfterBytes: 100_000, cutTimes: 1, cutMode: "stall" });
    const listener = recordingListener();
    const entry = await models.provision({ id: ID, source: ID }, never, listener);
    expect(entry.details?.sha256).toBe(sha256(GGUF));
    expect(listener.text()).toMatch(/no data arrived for 300 ms/);
    const resumedAt = hub.seen(`/${FILE}`, "GET").map((each) => rangeStart(each.range));
    expect(resumedAt.some((start) => start > 0 && start <= 100_000)).toBe(true);
  });

  it("resumes, in a later provision, the part file a failed attempt left", async () => {
    const { hub, models } = await start(undefined, { download: { attempts: 1 } });
    Object.assign(hub.file(REPO, FILE), { cutAfterBytes: 300_000, cutTimes: 1 });
    const failure = await refusalOf(models.provision({ id: ID, source: ID }, never, recordingListener()));
    expect(failure.code).toBe("model_download_failed");
    expect((await models.catalog.get(ID))?.status).toMatchObject({ state: "failed" });
    const partBytes = (await stat(path.join(models.catalog.folderOf(ID), `${FILE}.part`))).size;
    expect(partBytes).toBeGreaterThan(0);
    expect(partBytes).toBeLessThanOrEqual(300_000);

    const listener = recordingListener();
    const entry = await models.provision({ id: ID, source: ID }, never, listener);
    expect(entry.status.state).toBe("available");
    expect(entry.details?.sha256).toBe(sha256(GGUF));
    expect(hub.seen(`/${FILE}`, "GET").at(-1)?.range).toBe(`bytes=${partBytes}-`);
    expect(listener.text()).toMatch(/arrived in an earlier attempt/);
    expect(listener.reports[0]?.bytes ?? 0).toBeGreaterThan(partBytes); // progress counts the resumed bytes
    expect(await filesIn(models, ID)).toEqual(["metadata.json", FILE]);
  });

  it("fetches a model again whose file was cut short or deleted after its download, rather than calling it cached", async () => {
    const { hub, models } = await start();
    await models.provision({ id: ID, source: ID }, never, recordingListener());
    const filePath = path.join(models.catalog.folderOf(ID), FILE);
    for (const damage of [() => truncate(filePath, 1000), () => rm(filePath)]) {
      await damage();
      const listener = recordingListener();
      const entry = await models.provision({ id: ID, source: ID }, never, listener);
      expect(listener.text()).toMatch(new RegExp(`replace: fetching model '${ID}' again: its file .*${FILE} (has 1000 bytes, not the ${GGUF.length} it was fetched with|is gone)`));
      expect(listener.text()).not.toMatch(/already in the catalog/);
      expect(entry.details?.sha256).toBe(sha256(GGUF));
      expect((await stat(filePath)).size).toBe(GGUF.length);
    }
    expect(hub.seen(`/${FILE}`, "GET").filter((each) => each.path.startsWith("/cdn/"))).toHaveLength(3);
    // A whole file is cached again.
    const listener = recordingListener();
    await models.provision({ id: ID, source: ID }, never, listener);
    expect(listener.text()).toMatch(/already in the catalog/);
  });

  it("fails on a SHA-256 mismatch, never makes the entry available, and leaves nothing behind", async () => {
    const { hub, models } = await start();
    hub.file(REPO, FILE).publishWrongSha256 = true;
    const failure = await refusalOf(models.provision({ id: ID, source: ID }, never, recordingListener()));
    expect(failure.code).toBe("checksum_mismatch");
    expect(failure.message).toMatch(/SHA-256/);
    // Nothing worth resuming (the wrong file was deleted): no entry, no folder.
    expect(await models.catalog.get(ID)).toBeUndefined();
    await expect(filesIn(models, ID)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("stops the transfer at once when cancelled, and lists nothing afterwards", async () => {
    const { hub, models, fixture } = await start();
    hub.file(REPO, FILE).bytesPerSecond = 100_000;
    const controller = new AbortController();
    const listener = recordingListener((bytes) => {
      if (bytes > 0) controller.abort(new RbeeError(499, "cancelled", "job cancelled"));
    });
    const failure = await refusalOf(models.provision({ id: ID, source: ID }, controller.signal, listener));
    expect(failure.code).toBe("cancelled");
    await waitUntil(() => hub.closedEarly === 1, 2_000, "the fake hub to see the download's connection close");
    expect(await models.catalog.list()).toEqual([]);
    expect((await fixture.tree()).filter((each) => each.endsWith(".gguf") || each.endsWith(".part"))).toEqual([]);
  });

  it("says to set HF_TOKEN for a gated repo, and with the token downloads it without sending it to the CDN", async () => {
    const repos: FakeRepo[] = [{ id: REPO, files: [{ path: FILE, bytes: GGUF }], access: { kind: "gated", token: "hf_secret" } }];
    const { hub, fixture, models } = await start(repos, {}, { separateCdn: true });
    const anonymous = await refusalOf(models.provision({ id: ID, source: ID }, never, recordingListener()));
    expect(anonymous).toMatchObject({ status: 403, code: "model_access_denied" });
    expect(anonymous.message).toMatch(/set HF_TOKEN/);
    const wrong = await refusalOf(fixture.withOptions({ env: { HF_TOKEN: "hf_wrong" } }).provision({ id: ID, source: ID }, never, recordingListener()));
    expect(wrong.message).toMatch(/HF_TOKEN.*accept its conditions/);

    const entry = await fixture.withOptions({ env: { HF_TOKEN: "hf_secret" } }).provision({ id: ID, source: ID }, never, recordingListener());
    expect(entry.details?.sha256).toBe(sha256(GGUF));
    expect(hub.requests.filter((each) => each.server === "hub" && each.method === "GET").at(-1)?.authorization).toBe("Bearer hf_secret");
    // fetch drops Authorization when a redirect leaves the origin: the CDN never sees the token.
    const cdn = hub.requests.filter((each) => each.server === "cdn");
    expect(cdn.length).toBeGreaterThan(0);
    expect(cdn.every((each) => each.authorization === null)).toBe(true);
  });

  it("names the missing file or repo", async () => {
    const { fixture, models } = await start();
    const missingFile = await refusalOf(models.provision({ id: `hf:${REPO}:missing.gguf`, source: `hf:${REPO}:missing.gguf` }, never, recordingListener()));
    expect(missingFile).toMatchObject({ status: 404, code: "model_not_found" });
    expect(missingFile.message).toMatch(/no file 'missing.gguf'/);
    // Like the hub, an unknown repo answers 401 to anonymous callers (it may be private) and 404 with a token.
    const anonymous = await refusalOf(models.provision({ id: "hf:org/nope:x.gguf", source: "hf:org/nope:x.gguf" }, never, recordingListener()));
    expect(anonymous.message).toMatch(/does not exist.*HF_TOKEN/);
    const withToken = fixture.withOptions({ env: { HF_TOKEN: "hf_any" } });
    const missingRepo = await refusalOf(withToken.provision({ id: "hf:org/nope:x.gguf", source: "hf:org/nope:x.gguf" }, never, recordingListener()));
    expect(missingRepo).toMatchObject({ code: "model_not_found", message: expect.stringMatching(/no model repo 'org\/nope'/) });
    const revision = await refusalOf(models.provision({ id: `${ID}#nope`, source: `${ID}#nope` }, never, recordingListener()));
    expect(revision.message).toMatch(/no branch, tag or commit 'nope'/);
  });

  it("blames the download server, not the repo's name or the token, for a refusal of the CDN the hub redirected to", async () => {
    const { hub, models } = await start(undefined, {}, { separateCdn: true });
    hub.file(REPO, FILE).cdnStatus = 404;
    const missing = await refusalOf(models.provision({ id: ID, source: ID }, never, recordingListener()));
    expect(missing).toMatchObject({ code: "model_not_found", message: `hf:${REPO}/${FILE}: the hub lists the file, but its download server ${new URL(hub.cdnUrl).host} answered 404: the hub's copy is missing there; try again later` });
    hub.file(REPO, FILE).cdnStatus = 403;
    const refused = await refusalOf(models.provision({ id: ID, source: ID }, never, recordingListener()));
    expect(refused).toMatchObject({ code: "model_download_failed", message: expect.stringContaining("refused the download link (403); such links expire, so ask for the model again") });
    expect(refused.message).not.toContain("HF_TOKEN");
  });

  it("picks Q4_K_M for a bare repo from its paged file list and narrates why", async () => {
    const files = [
      { path: "README.md", bytes: new TextEncoder().encode("# tiny"), lfs: false },
      { path: "mmproj-tiny-f16.gguf", bytes: createTinyLlamaGguf({ seed: 1 }) },
      { path: "tiny-Q8_0.gguf", bytes: createTinyLlamaGguf({ seed: 2 }) },
      { path: "tiny-Q4_K_M.gguf", bytes: createTinyLlamaGguf({ seed: 3 }) },
      { path: "tiny-Q5_K_M.gguf", bytes: createTinyLlamaGguf({ seed: 4 }) },
    ];
    const { hub, models } = await start([{ id: "org/multi", files }], {}, { treePageSize: 2 });
    const listener = recordingListener();
    const entry = await models.provision({ id: "hf:org/multi", source: "hf:org/multi" }, never, listener);
    expect(entry.details).toMatchObject({ fileName: "tiny-Q4_K_M.gguf", sha256: sha256(files[3]?.bytes ?? new Uint8Array()) });
    expect(listener.said.find((each) => each.action === "pick")?.message).toMatch(/picked tiny-Q4_K_M.gguf \(Q4_K_M\) among 3 GGUF files/);
    expect(hub.seen("/tree/main").length).toBe(3); // five entries, two per page

    const q8 = await models.provision({ id: "hf:org/multi:Q8_0", source: "hf:org/multi:Q8_0" }, never, recordingListener());
    expect(q8.details).toMatchObject({ fileName: "tiny-Q8_0.gguf", sha256: sha256(files[2]?.bytes ?? new Uint8Array()) });
  });

  it("fetches a file from a repo subfolder at a pinned commit", async () => {
    const { hub, models } = await start([{ id: REPO, files: [{ path: "Q4_K_M/tiny.gguf", bytes: GGUF }] }]);
    const id = `hf:${REPO}/Q4_K_M/tiny.gguf#${hub.commitOf(REPO)}`;
    const entry = await models.provision({ id, source: id }, never, recordingListener());
    expect(entry.details).toMatchObject({ fileName: "tiny.gguf", sha256: sha256(GGUF) });
  });

  it("shares one download between two jobs asking at once", async () => {
    const { hub, models } = await start();
    hub.file(REPO, FILE).bytesPerSecond = 2_000_000;
    const first = recordingListener();
    const second = recordingListener();
    const [a, b] = await Promise.all([models.provision({ id: ID, source: ID }, never, first), models.provision({ id: ID, source: ID }, never, second)]);
    expect(a).toEqual(b);
    // Either asker may reach the catalog first; the other joins its download.
    expect([first.text(), second.text()].filter((text) => /sharing that download/.test(text))).toHaveLength(1);
    expect(hub.seen(`/${FILE}`, "HEAD")).toHaveLength(1);
    expect(hub.seen(`/${FILE}`, "GET").filter((each) => each.path.startsWith("/cdn/"))).toHaveLength(1);
  });

  it("refuses a file over the size cap before fetching a byte", async () => {
    const { hub, models } = await start(undefined, { download: { maxBytes: 400_000 } });
    const refused = await refusalOf(models.provision({ id: ID, source: ID }, never, recordingListener()));
    expect(refused).toMatchObject({ status: 413, code: "download_too_large" });
    expect(refused.message).toMatch(/521088 bytes.*limit of 400000 bytes.*RBEE_MAX_DOWNLOAD_BYTES/);
    expect(hub.requests.filter((each) => each.path.startsWith("/cdn/"))).toEqual([]);
  });

  it("takes the size cap from RBEE_MAX_DOWNLOAD_BYTES, and refuses a malformed one", async () => {
    const { fixture } = await start(undefined, { env: { RBEE_MAX_DOWNLOAD_BYTES: "1000" } });
    await expect(fixture.models.provision({ id: ID, source: ID }, never, recordingListener())).rejects.toMatchObject({ code: "download_too_large" });
    expect(() => fixture.withOptions({ env: { RBEE_MAX_DOWNLOAD_BYTES: "lots" } })).toThrow(/RBEE_MAX_DOWNLOAD_BYTES is 'lots'/);
  });

  it("stops at once, keeping nothing, when the download server's size is not the one the hub lists", async () => {
    const { hub, models } = await start();
    for (const listed of [GGUF.length - 1000, GGUF.length + 1000]) {
      hub.file(REPO, FILE).advertisedSize = listed;
      const failure = await refusalOf(models.provision({ id: ID, source: ID }, never, recordingListener()));
      expect(failure).toMatchObject({ code: "size_mismatch", message: expect.stringContaining(`the download server says the file has ${GGUF.length} bytes, but the source lists it with ${listed}; nothing of it was kept`) });
      expect(await models.catalog.get(ID)).toBeUndefined();
    }
    // One try each: a retry would end the same way.
    expect(hub.seen(`/${FILE}`, "GET").filter((each) => each.path.startsWith("/cdn/"))).toHaveLength(2);
  });

  it("refuses a file that cannot fit on the disk before fetching a byte", async () => {
    const { hub, fixture, models } = await start(undefined, { download: { maxBytes: 2 ** 60 } });
    hub.file(REPO, FILE).advertisedSize = 2 ** 50;
    const huge = await refusalOf(models.provision({ id: ID, source: ID }, never, recordingListener()));
    expect(huge).toMatchObject({ status: 507, code: "insufficient_disk_space" });
    expect(huge.message).toMatch(/needs 1\.0 PiB .* free/);
    delete hub.file(REPO, FILE).advertisedSize;
    const small = fixture.withOptions({ download: { freeBytes: async () => 1_000, diskMarginBytes: 0 } });
    const full = await refusalOf(small.provision({ id: ID, source: ID }, never, recordingListener()));
    expect(full.message).toMatch(/\(521088 bytes\).* has 1000 bytes free/);
    expect(hub.requests.filter((each) => each.path.startsWith("/cdn/"))).toEqual([]);
  });
});
