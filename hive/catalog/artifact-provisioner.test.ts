// ArtifactProvisioner over a real FilesystemCatalog and a fake vendor that writes real files:
// status goes downloading → available, concurrent askers share one fetch, cancels count per
// asker, failures keep partial files for the next try, and bad ids are refused before any write.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { waitUntil } from "../../shared/wait-until.js";
import { ArtifactFields, type Artifact } from "./artifact.js";
import { ArtifactProvisioner, FetchInterrupted, type ProvisionListener } from "./artifact-provisioner.js";
import { FilesystemCatalog } from "./filesystem-catalog.js";
import type { VendorContext, VendorSource } from "./vendor-source.js";

/** A promise and its resolve, made outside it (Node 20 has no Promise.withResolvers). */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

/** A vendor for `fake:` sources that writes `part` then `artifact.bin`, paced by the test. */
class FakeVendor implements VendorSource<Artifact> {
  readonly name = "fake-vendor";
  calls = 0;
  signals: AbortSignal[] = [];
  /** What each fetch found in its folder when it started. */
  foundAtStart: string[][] = [];
  /** Set to make the next fetches fail after writing their partial file. */
  failWith: string | undefined;
  /** How long a fetch takes to wind down once aborted, ms. */
  abortDelayMs = 0;
  private readonly gate = deferred();
  readonly started = deferred();

  supports(source: string): boolean {
    return source.startsWith("fake:");
  }

  /** Lets every fetch waiting at the gate finish. */
  finish(): void {
    this.gate.resolve();
  }

  async fetch(request: { id: string; source: string }, folder: string, context: VendorContext): Promise<Artifact> {
    this.calls++;
    this.signals.push(context.signal);
    this.foundAtStart.push((await readdir(folder)).sort());
    context.narrate("resolve", `found ${request.source}`);
    await writeFile(path.join(folder, "part"), "first half");
    context.progress(10, 20, 5);
    this.started.resolve();
    await new Promise<void>((resolve, reject) => {
      // Once aborted it only winds down: the gate opening later does not make it succeed.
      context.signal.addEventListener("abort", () => setTimeout(() => reject(context.signal.reason), this.abortDelayMs), { once: true });
      void this.gate.promise.then(() => context.signal.aborted || resolve());
    });
    if (this.failWith !== undefined) throw new Error(this.failWith);
    await writeFile(path.join(folder, "artifact.bin"), "the whole thing");
    context.progress(20, 20, 5);
    return { id: request.id, status: { state: "available" }, sizeBytes: 15, addedAt: new Date().toISOString(), details: { from: request.source } };
  }
}

/** A listener that keeps what it heard: the narrated actions and the byte counts. */
function recorder(): ProvisionListener & { said: string[]; bytes: number[] } {
  const said: string[] = [];
  const bytes: number[] = [];
  return { said, bytes, narrate: (action) => said.push(action), progress: (count) => bytes.push(count) };
}

const ID = "fake:org/thing:v1";
let dir = "";
let vendor: FakeVendor;
let catalog: FilesystemCatalog<Artifact>;
let provisioner: ArtifactProvisioner<Artifact>;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-provision-"));
  vendor = new FakeVendor();
  catalog = new FilesystemCatalog(path.join(dir, "things"), ArtifactFields, "thing");
  provisioner = new ArtifactProvisioner(catalog, [vendor], "thing", "'fake:org/name:tag'");
});

afterEach(async () => {
  vendor.finish();
  await rm(dir, { recursive: true, force: true });
});

const live = () => new AbortController().signal;
const request = { id: ID, source: ID };

describe("ArtifactProvisioner.provision", () => {
  it("records the entry as downloading by this process while fetching, then available", async () => {
    const listener = recorder();
    const provisioned = provisioner.provision(request, live(), listener);
    await vendor.started.promise;
    expect((await catalog.get(ID))?.status).toEqual({ state: "downloading", pid: process.pid });
    expect(await catalog.contains(ID)).toBe(false);
    vendor.finish();
    expect((await provisioned).id).toBe(ID);
    expect(await catalog.get(ID)).toMatchObject({ id: ID, status: { state: "available" }, details: { from: ID } });
    expect(await readFile(path.join(catalog.folderOf(ID), "artifact.bin"), "utf8")).toBe("the whole thing");
    expect(listener.said).toEqual(["fetch", "resolve"]);
    expect(listener.bytes).toEqual([10, 20]);
  });

  it("answers an available id from the catalog, narrating cached, without the vendor", async () => {
    vendor.finish();
    await provisioner.provision(request, live(), recorder());
    const listener = recorder();
    expect((await provisioner.provision(request, live(), listener)).status.state).toBe("available");
    expect(listener.said).toEqual(["cached"]);
    expect(vendor.calls).toBe(1);
  });

  it("shares one fetch between two askers, and both hear its progress", async () => {
    const [first, second] = [recorder(), recorder()];
    const one = provisioner.provision(request, live(), first);
    await vendor.started.promise;
    const two = provisioner.provision(request, live(), second);
    await waitUntil(() => second.said.includes("join"), 2000, "the second asker to join");
    vendor.finish();
    expect(await one).toEqual(await two);
    expect(vendor.calls).toBe(1);
    expect(first.bytes).toEqual([10, 20]);
    expect(second.bytes).toEqual([20]);
  });

  it("keeps fetching for the other asker when one of two cancels", async () => {
    const cancel = new AbortController();
    const leaving = provisioner.provision(request, cancel.signal, recorder());
    const staying = provisioner.provision(request, live(), recorder());
    await vendor.started.promise;
    cancel.abort(new Error("first job cancelled"));
    await expect(leaving).rejects.toThrow("first job cancelled");
    expect(vendor.signals[0]?.aborted).toBe(false);
    vendor.finish();
    expect((await staying).status.state).toBe("available");
    expect(vendor.calls).toBe(1);
  });

  it("keeps fetching when one of two askers that share a listener object cancels", async () => {
    const shared = recorder();
    const cancel = new AbortController();
    const leaving = provisioner.provision(request, cancel.signal, shared);
    const staying = provisioner.provision(request, live(), shared);
    await vendor.started.promise;
    cancel.abort(new Error("first job cancelled"));
    await expect(leaving).rejects.toThrow("first job cancelled");
    expect(vendor.signals[0]?.aborted).toBe(false);
    vendor.finish();
    expect((await staying).status.state).toBe("available");
  });

  it("aborts the vendor when its only asker cancels, and leaves nothing listed", async () => {
    const cancel = new AbortController();
    const provisioned = provisioner.provision(request, cancel.signal, recorder());
    await vendor.started.promise;
    cancel.abort(new Error("job cancelled"));
    await expect(provisioned).rejects.toThrow("job cancelled");
    expect(vendor.signals[0]?.aborted).toBe(true);
    await waitUntil(async () => (await readdir(catalog.root)).every((name) => name.startsWith(".")), 5000, "the cancelled entry's folder to go");
    expect(await catalog.list()).toEqual([]);
    expect(await readdir(path.join(catalog.root, ".trash"))).toEqual([]);
  });

  it("keeps the partial files of a fetch interrupted by shutdown, recorded as failed, and resumes from them", async () => {
    const stop = new AbortController();
    const provisioned = provisioner.provision(request, stop.signal, recorder());
    await vendor.started.promise;
    stop.abort(new FetchInterrupted("the hive is shutting down"));
    await expect(provisioned).rejects.toThrow("shutting down");
    await waitUntil(async () => (await catalog.get(ID))?.status.state === "failed", 5000, "the interruption to be recorded");
    expect((await catalog.get(ID))?.status).toEqual({ state: "failed", reason: "interrupted: the hive is shutting down; ask for it again to resume" });
    expect(await readdir(catalog.folderOf(ID))).toContain("part");

    vendor.finish();
    await provisioner.provision(request, new AbortController().signal, recorder());
    expect(vendor.foundAtStart[1]).toContain("part");
  });

  it("fetches an available entry again when asked to replace it, under its lock", async () => {
    vendor.finish();
    await provisioner.provision(request, new AbortController().signal, recorder());
    const again = recorder();
    await provisioner.provision(request, new AbortController().signal, again, { replaceIf: async () => "it is out of date" });
    expect(vendor.calls).toBe(2);
    expect(again.said).toContain("replace");
    expect((await catalog.get(ID))?.status.state).toBe("available");
  });

  /** A fetch whose only asker has cancelled it once it started, the vendor taking 300 ms to stop: its asker's answer, to come. */
  async function cancelledFetch(): Promise<{ answer: Promise<unknown> }> {
    vendor.abortDelayMs = 300;
    const cancel = new AbortController();
    const answer = provisioner.provision(request, cancel.signal, recorder());
    await vendor.started.promise;
    cancel.abort(new Error("job cancelled"));
    return { answer };
  }

  it("answers an asker that cancelled once the fetch it stopped has wound down, with nothing listed by then", async () => {
    await expect((await cancelledFetch()).answer).rejects.toThrow("job cancelled");
    expect(await catalog.list()).toEqual([]);
  });

  it("fetches afresh for an asker who comes while a cancelled fetch winds down", async () => {
    const { answer: cancelled } = await cancelledFetch();
    const listener = recorder();
    // Asked while the cancelled fetch winds down (its asker is answered only after that).
    const next = provisioner.provision(request, live(), listener);
    await expect(cancelled).rejects.toThrow("job cancelled");
    vendor.finish();
    expect((await next).status.state).toBe("available");
    expect(vendor.calls).toBe(2);
    expect(vendor.signals[1]?.aborted).toBe(false);
    expect(listener.said).not.toContain("join");
  });

  it("starts nothing for an asker that was cancelled before it asked", async () => {
    const cancel = new AbortController();
    cancel.abort(new Error("already gone"));
    await expect(provisioner.provision(request, cancel.signal, recorder())).rejects.toThrow("already gone");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(vendor.calls).toBe(0);
    await expect(readdir(catalog.root)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("records a vendor failure with its reason, keeping the partial files for the next try", async () => {
    vendor.failWith = "connection reset by hub";
    const failed = provisioner.provision(request, live(), recorder());
    vendor.finish();
    await expect(failed).rejects.toThrow("connection reset by hub");
    expect((await catalog.get(ID))?.status).toEqual({ state: "failed", reason: "connection reset by hub" });
    expect(await catalog.contains(ID)).toBe(false);
    expect(await readdir(catalog.folderOf(ID))).toContain("part");

    vendor.failWith = undefined;
    expect((await provisioner.provision(request, live(), recorder())).status.state).toBe("available");
    expect(vendor.calls).toBe(2);
    expect(vendor.foundAtStart[1]).toEqual(["metadata.json", "part"]);
    expect((await catalog.get(ID))?.status).toEqual({ state: "available" });
  });

  it("waits, and says so, while another job holds the entry's lock", async () => {
    const held = deferred();
    const holderInside = deferred();
    const holding = catalog.withLock(ID, live(), () => {}, async () => {
      holderInside.resolve();
      await held.promise;
    });
    await holderInside.promise;
    const listener = recorder();
    const provisioned = provisioner.provision(request, live(), listener);
    await waitUntil(() => listener.said.includes("wait"), 2000, "the provisioner to say it waits");
    expect(vendor.calls).toBe(0);
    held.resolve();
    await holding;
    vendor.finish();
    expect((await provisioned).status.state).toBe("available");
    expect(listener.said[0]).toBe("wait");
  });
});

describe("ArtifactProvisioner refusals", () => {
  it("names the accepted forms for a source no vendor supports, writing nothing", async () => {
    const refused = provisioner.provision({ id: "s3://bucket/model.gguf", source: "s3://bucket/model.gguf" }, live(), recorder());
    await expect(refused).rejects.toMatchObject({ code: "unsupported_artifact_id", status: 400 });
    await expect(refused).rejects.toThrow("'fake:org/name:tag'");
    expect(vendor.calls).toBe(0);
    await expect(readdir(catalog.root)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it.each([
    ["an id climbing out of the root", { id: "../../etc/passwd", source: ID }],
    ["a source with '..' segments", { id: "fake:../../x", source: "fake:../../x" }],
    ["a safe id with a climbing source", { id: "ok-id", source: "fake:a/../../b" }],
    ["an id with a NUL", { id: "bad\u0000id", source: ID }],
    ["a 2000-character id", { id: "x".repeat(2000), source: ID }],
  ])("refuses %s before writing anything", async (_, hostile) => {
    await expect(provisioner.provision(hostile, live(), recorder())).rejects.toMatchObject({ code: "invalid_artifact_id" });
    expect(vendor.calls).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  });
});
