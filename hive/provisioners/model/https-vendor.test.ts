import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createTinyLlamaGguf } from "../../../shared/gguf/tiny-llama.js";
import { FakeHub, type FakeRepo, sha256 } from "../../../test/support/fake-hub.js";
import { type ModelFixture, modelFixture, recordingListener } from "../../../test/support/model-fixture.js";
import type { ModelCatalogOptions } from "./model-vendors.js";

const GGUF = createTinyLlamaGguf();
const REPO = "org/plain";
const FILE = "tiny.gguf";
const never = new AbortController().signal;

let hub: FakeHub | undefined;
let fixture: ModelFixture | undefined;

afterEach(async () => {
  await hub?.close();
  await fixture?.cleanup();
});

async function start(options: Partial<ModelCatalogOptions> = {}, repo: Partial<FakeRepo> = {}, separateCdn = false) {
  hub = await FakeHub.start({ repos: [{ id: REPO, files: [{ path: FILE, bytes: GGUF }], ...repo }], separateCdn });
  fixture = await modelFixture(hub, options);
  return { hub, fixture, models: fixture.models };
}

describe("https vendor", () => {
  it("downloads a plain URL and records the SHA-256 it computed", async () => {
    const { hub, models } = await start();
    const url = hub.plainUrl(REPO, FILE);
    const listener = recordingListener();
    const entry = await models.provision({ id: url, source: url }, never, listener);
    expect(entry).toMatchObject({ status: { state: "available" }, sizeBytes: GGUF.length });
    expect(entry.details).toMatchObject({ vendor: "https", fileName: FILE, origin: url, sha256: sha256(GGUF), linked: false, gguf: { architecture: "llama" } });
    expect(listener.text()).toMatch(/SHA-256 [0-9a-f]{64} recorded/);
  });

  it("downloads a pre-signed URL whole, and keeps its query (the credential) out of the catalog and the narration", async () => {
    const { hub, models } = await start();
    const url = hub.plainUrl(REPO, FILE);
    const signed = `${url}?X-Amz-Credential=AKIDEXAMPLE&X-Amz-Signature=s3cr3tsig`;
    const listener = recordingListener();
    const entry = await models.provision({ id: url, source: signed }, never, listener);
    expect(hub.requests.some((each) => each.path.endsWith("X-Amz-Signature=s3cr3tsig"))).toBe(true);
    expect(entry.details?.origin).toBe(url);
    const metadata = await readFile(path.join(models.catalog.folderOf(url), "metadata.json"), "utf8");
    expect(metadata).toContain(url);
    for (const kept of [metadata, listener.text()]) expect(kept).not.toContain("s3cr3tsig");
  });

  it("resumes the part of a failed attempt with Range and If-Range", async () => {
    const { hub, models } = await start({ download: { attempts: 1 } });
    Object.assign(hub.file(REPO, FILE), { cutAfterBytes: 250_000, cutTimes: 1 });
    const url = hub.plainUrl(REPO, FILE);
    await expect(models.provision({ id: url, source: url }, never, recordingListener())).rejects.toMatchObject({ code: "model_download_failed" });
    const partBytes = (await stat(path.join(models.catalog.folderOf(url), `${FILE}.part`))).size;
    expect(partBytes).toBeGreaterThan(0); // at most 250 000: fetch drops what it had buffered unread when the connection broke
    const entry = await models.provision({ id: url, source: url }, never, recordingListener());
    expect(entry.details?.sha256).toBe(sha256(GGUF));
    expect(hub.seen(`/${FILE}`, "GET").at(-1)).toMatchObject({ range: `bytes=${partBytes}-`, ifRange: `"${sha256(GGUF)}"` });
  });

  it("starts over when the server answers a range request with the whole file", async () => {
    const { hub, models } = await start();
    Object.assign(hub.file(REPO, FILE), { cutAfterBytes: 100_000, cutTimes: 1, ignoreRange: true });
    const url = hub.plainUrl(REPO, FILE);
    const listener = recordingListener();
    const entry = await models.provision({ id: url, source: url }, never, listener);
    expect(entry.details?.sha256).toBe(sha256(GGUF));
    expect(listener.text()).toMatch(/sent the whole file instead of resuming at byte \d+/);
  });

  it("fetches a plain URL again instead of trusting a finished file it cannot check", async () => {
    const { hub, models } = await start();
    const url = hub.plainUrl(REPO, FILE);
    // What a failed earlier attempt left: a whole file that is not the model (the server changed, or it was never a GGUF).
    await mkdir(models.catalog.folderOf(url), { recursive: true });
    await writeFile(path.join(models.catalog.folderOf(url), FILE), "not a gguf");
    const entry = await models.provision({ id: url, source: url }, never, recordingListener());
    expect(entry.details?.sha256).toBe(sha256(GGUF));
    expect(hub.seen(`/${FILE}`, "GET")).toHaveLength(1);
  });

  it("answers a missing file with model_not_found", async () => {
    const { hub, models } = await start();
    const url = hub.plainUrl(REPO, "missing.gguf");
    await expect(models.provision({ id: url, source: url }, never, recordingListener())).rejects.toMatchObject({ status: 404, code: "model_not_found" });
  });

  it("sends HF_TOKEN only to HF_ENDPOINT's origin, and not on to the CDN", async () => {
    const { hub, fixture } = await start({ env: { HF_TOKEN: "hf_secret" } }, { access: { kind: "gated", token: "hf_secret" } }, true);
    const resolveUrl = `${hub.url}/${REPO}/resolve/main/${FILE}`;
    const listener = recordingListener();
    const entry = await fixture.models.provision({ id: resolveUrl, source: resolveUrl }, never, listener);
    expect(entry.details?.sha256).toBe(sha256(GGUF));
    expect(listener.text()).toMatch(/auth: .*HF_TOKEN/);
    expect(hub.requests.find((each) => each.server === "hub")?.authorization).toBe("Bearer hf_secret");
    const plain = hub.plainUrl(REPO, FILE); // the CDN's own origin is not the hub's
    await fixture.withOptions({}).provision({ id: plain, source: plain }, never, recordingListener());
    expect(hub.requests.filter((each) => each.server === "cdn").every((each) => each.authorization === null)).toBe(true);
  });

  it("says what to do when a non-hub URL refuses access", async () => {
    const { hub, fixture } = await start({}, { access: { kind: "gated", token: "hf_secret" } });
    const resolveUrl = `${hub.url}/${REPO}/resolve/main/${FILE}`;
    await expect(fixture.withOptions({ env: { HF_ENDPOINT: "https://hub.invalid" } }).provision({ id: resolveUrl, source: resolveUrl }, never, recordingListener())).rejects.toMatchObject({
      code: "model_access_denied",
      message: expect.stringMatching(/sends no credentials to other hosts/),
    });
  });
});
