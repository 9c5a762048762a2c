// Where a download may go and how much it may take: every redirect hop is checked before anything
// connects (no metadata service, no LAN, no loopback unless the URL itself was loopback), the size
// is capped, and the free space is checked again while writing. Only 127.0.0.1 is ever connected to.
import { createHash } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { appendFile, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RbeeError } from "../../../shared/errors.js";
import { addressAllowed, addressKind } from "./address-policy.js";
import type { ResolveHost } from "./guarded-get.js";
import { DOWNLOAD_DEFAULTS, type DownloadSettings, type DownloadTarget, downloadResumable } from "./resumable-download.js";
import { retryAfterMs } from "./transient-status.js";

const BYTES = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A server on 127.0.0.1 answering every request with `handler`; records the paths it saw. */
async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ url: string; paths: string[]; server: Server }> {
  const paths: string[] = [];
  const server = createServer((request, response) => {
    paths.push(request.url ?? "");
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  server.on("connection", (socket) => cleanups.push(async () => socket.destroy()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths, server };
}

/** The file, honouring `Range: bytes=N-`. */
function serveFile(request: IncomingMessage, response: ServerResponse): void {
  const start = Number(/^bytes=(\d+)-$/.exec(request.headers.range ?? "")?.[1] ?? 0);
  if (start > 0) response.writeHead(206, { "content-range": `bytes ${start}-${BYTES.length - 1}/${BYTES.length}`, "content-length": BYTES.length - start });
  else response.writeHead(200, { "content-length": BYTES.length });
  response.end(BYTES.subarray(start));
}

async function download(url: string, settings: Partial<DownloadSettings> = {}, said: string[] = [], onProgress: (bytes: number) => void = () => {}) {
  const folder = await mkdtemp(path.join(tmpdir(), "rbee-guarded-"));
  cleanups.push(() => rm(folder, { recursive: true, force: true }));
  const target: DownloadTarget = {
    url,
    headers: {},
    folder,
    fileName: "x.gguf",
    expectedSha256: null,
    expectedBytes: null,
    label: "x.gguf",
    refusal: (response) => new RbeeError(502, "refused", `answered ${response.status}`),
    gaveUp: { code: "gave_up", resumeBy: "asking again" },
  };
  const context = { signal: new AbortController().signal, narrate: (_action: string, message: string) => said.push(message), progress: onProgress };
  const all: DownloadSettings = { ...DOWNLOAD_DEFAULTS, retryBaseMs: 5, retryMaxMs: 10, diskMarginBytes: 0, ...settings };
  return { folder, run: () => downloadResumable(target, context, all) };
}

/** Every address a TCP connection was opened to while `fn` ran. */
async function connectionsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const onSocket = (message: unknown) => {
    const socket = (message as { socket: Socket }).socket;
    socket.once("connect", () => seen.push(socket.remoteAddress ?? "?"));
    socket.once("lookup", (_error: unknown, address: string) => seen.push(address));
  };
  subscribe("net.client.socket", onSocket);
  try {
    await fn().catch(() => {});
  } finally {
    unsubscribe("net.client.socket", onSocket);
  }
  return seen;
}

describe("where a download may connect", () => {
  it("classifies addresses: public ones pass, the metadata service, the LAN and loopback do not", () => {
    const kinds = ["8.8.8.8", "169.254.169.254", "10.0.0.1", "192.168.1.2", "172.20.0.1", "100.64.0.1", "127.0.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fd00::1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "2606:4700::1111"].map(
      (address) => `${address} ${addressKind(address)}`,
    );
    expect(kinds).toEqual([
      "8.8.8.8 public",
      "169.254.169.254 link-local",
      "10.0.0.1 private",
      "192.168.1.2 private",
      "172.20.0.1 private",
      "100.64.0.1 carrier-grade NAT",
      "127.0.0.1 loopback",
      "0.0.0.0 unspecified",
      "224.0.0.1 multicast",
      "::1 loopback",
      "fe80::1 link-local",
      "fd00::1 private",
      "::ffff:10.0.0.1 private",
      "64:ff9b::a9fe:a9fe link-local",
      "2606:4700::1111 public",
    ]);
    expect(addressAllowed("loopback", false)).toBe(false);
    expect(addressAllowed("loopback", true)).toBe(true);
    expect(addressAllowed("private", true)).toBe(false);
  });

  it("refuses a redirect to the metadata service or a LAN host without connecting there", async () => {
    for (const location of ["http://169.254.169.254/latest/meta-data/", "https://169.254.169.254/x.gguf", "https://10.0.0.1/x.gguf", "https://[::ffff:a9fe:a9fe]/x.gguf"]) {
      const { url, paths } = await serve((_request, response) => response.writeHead(302, { location }).end());
      const { run } = await download(`${url}/x.gguf`);
      let error: unknown;
      const connected = await connectionsDuring(async () => {
        error = await run().catch((caught: unknown) => caught);
      });
      expect(error).toMatchObject({ code: "download_address_refused" });
      expect((error as Error).message).not.toContain("meta-data");
      expect(connected.every((address) => address === "127.0.0.1")).toBe(true);
      expect(paths).toEqual(["/x.gguf"]);
    }
  });

  it("refuses a redirect to a name that resolves to a private address, checking every address", async () => {
    const resolveHost: ResolveHost = async (hostname) => (hostname === "cdn.example" ? [{ address: "203.0.113.9", family: 4 }, { address: "10.1.2.3", family: 4 }] : []);
    const { url } = await serve((_request, response) => response.writeHead(302, { location: "https://cdn.example/x.gguf" }).end());
    const { run } = await download(`${url}/x.gguf`, { resolveHost });
    const connected = await connectionsDuring(async () => {
      await expect(run()).rejects.toMatchObject({ code: "download_address_refused", message: expect.stringMatching(/cdn\.example.*10\.1\.2\.3, a private address/) });
    });
    expect(connected.every((address) => address === "127.0.0.1")).toBe(true);
  });

  it("connects to the address it checked, resolving each hop once", async () => {
    const { url: target } = await serve(serveFile);
    const port = new URL(target).port;
    const asked: string[] = [];
    const resolveHost: ResolveHost = async (hostname) => {
      asked.push(hostname);
      return [{ address: "127.0.0.1", family: 4 }];
    };
    const { url } = await serve((_request, response) => response.writeHead(302, { location: `http://localhost:${port}/x.gguf` }).end());
    const { run } = await download(`${url}/x.gguf`, { resolveHost });
    const connected = await connectionsDuring(async () => expect((await run()).bytes).toBe(BYTES.length));
    expect(asked).toEqual(["localhost"]);
    expect(connected.every((address) => address === "127.0.0.1")).toBe(true);
  });

  it("refuses plain http to another host, and a redirect loop", async () => {
    const { url: viaHttp } = await serve((_request, response) => response.writeHead(302, { location: "http://downloads.example/x.gguf" }).end());
    await expect((await download(`${viaHttp}/x.gguf`)).run()).rejects.toMatchObject({ code: "download_address_refused", message: expect.stringMatching(/plain http/) });
    const { url: looping, paths } = await serve((request, response) => response.writeHead(302, { location: `${request.url ?? ""}x` }).end());
    await expect((await download(`${looping}/x.gguf`)).run()).rejects.toMatchObject({ code: "download_address_refused", message: expect.stringMatching(/redirected more than 5 times/) });
    expect(paths).toHaveLength(6);
  });
});

describe("what a cut connection leaves", () => {
  it("keeps every byte that arrived before the cut, for the resume", async () => {
    const { url } = await serve((_request, response) => {
      response.writeHead(200, { "content-length": BYTES.length });
      response.write(BYTES.subarray(0, 100_000), () => response.socket?.end());
    });
    const { run, folder } = await download(`${url}/x.gguf`, { attempts: 1 });
    await expect(run()).rejects.toMatchObject({ code: "gave_up", message: expect.stringMatching(/the 97.7 KiB \(100000 bytes\) received are kept/) });
    expect((await stat(path.join(folder, "x.gguf.part"))).size).toBe(100_000);
  });

  it("says nothing is kept when no byte arrived", async () => {
    const { url } = await serve((_request, response) => response.socket?.destroy());
    const { run } = await download(`${url}/x.gguf`, { attempts: 2 });
    await expect(run()).rejects.toMatchObject({ code: "gave_up", message: expect.stringMatching(/; no byte of it arrived, so asking again starts it afresh$/) });
  });
});

describe("a server that says when to come back", () => {
  it("is asked again no sooner than its Retry-After, and the narration says so", async () => {
    let asked = 0;
    const { url } = await serve((request, response) => {
      asked += 1;
      if (asked === 1) {
        response.writeHead(429, { "retry-after": "1" });
        response.end();
        return;
      }
      serveFile(request, response);
    });
    const said: string[] = [];
    const { run } = await download(`${url}/x.gguf`, {}, said);
    const startedMs = Date.now();
    await run();
    // The test's own backoff is 5 ms: only the server's Retry-After makes the wait a second long.
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(950);
    expect(said.join("\n")).toMatch(/the server answered 429 Too Many Requests \(at byte 0\); resuming in 1000 ms \(it asked for 1 s\)/);
  });

  it("reads Retry-After as seconds or a date, and follows at most five minutes of it", () => {
    const nowMs = Date.parse("2026-12-07T12:00:00Z");
    expect(retryAfterMs("30", nowMs)).toBe(30_000);
    expect(retryAfterMs("Mon, 07 Dec 2026 12:00:10 GMT", nowMs)).toBe(10_000);
    expect(retryAfterMs("Mon, 07 Dec 2026 11:00:00 GMT", nowMs)).toBe(0);
    expect(retryAfterMs("86400", nowMs)).toBe(5 * 60_000);
    expect(retryAfterMs("soon", nowMs)).toBeUndefined();
    expect(retryAfterMs(null, nowMs)).toBeUndefined();
  });
});

describe("a part file another process writes too", () => {
  it("is deleted, not made the finished file, though the bytes this download wrote hash right", async () => {
    let folder = "";
    const { url } = await serve((_request, response) => {
      response.writeHead(200, { "content-length": BYTES.length });
      // Half, then another writer appends to the part (a hive whose lock on the entry was lost), then the rest.
      response.write(BYTES.subarray(0, 150_000), () => {
        setTimeout(() => void appendFile(path.join(folder, "x.gguf.part"), "stray bytes").then(() => response.end(BYTES.subarray(150_000))), 100);
      });
    });
    const started = await download(`${url}/x.gguf`);
    folder = started.folder;
    await expect(started.run()).rejects.toMatchObject({ status: 409, code: "download_conflict", message: expect.stringContaining(`holds ${BYTES.length + 11} bytes where this download wrote ${BYTES.length}`) });
    expect(await readdir(folder)).toEqual([]);
  });
});

describe("how much a download may take", () => {
  it("refuses a file whose announced size is over the cap before receiving it", async () => {
    const { url } = await serve(serveFile);
    const { run, folder } = await download(`${url}/x.gguf`, { maxBytes: 100_000 });
    await expect(run()).rejects.toMatchObject({ status: 413, code: "download_too_large", message: expect.stringMatching(/announced .*limit of 100000 bytes/) });
    expect((await stat(path.join(folder, "x.gguf.part"))).size).toBe(0);
  });

  it("stops a file of unannounced size at the cap", async () => {
    const { url } = await serve((_request, response) => {
      response.writeHead(200); // chunked: no Content-Length to judge by
      response.end(BYTES);
    });
    const { run, folder } = await download(`${url}/x.gguf`, { maxBytes: 100_000 });
    await expect(run()).rejects.toMatchObject({ code: "download_too_large", message: expect.stringMatching(/more than 100000 bytes arrived/) });
    expect((await stat(path.join(folder, "x.gguf.part"))).size).toBeLessThanOrEqual(100_000);
  });

  it("stops cleanly when the disk fills up while writing, keeps the part, and resumes it once there is room", async () => {
    const { url, paths } = await serve(serveFile);
    let free = Number.MAX_SAFE_INTEGER;
    const said: string[] = [];
    // Another writer takes the disk once the download is under way.
    const fill = (bytes: number) => {
      if (bytes > 0 && bytes < BYTES.length) free = Math.min(free, 50_000);
    };
    const settings = { diskCheckEveryBytes: 64 * 1024, freeBytes: async () => free, diskMarginBytes: 1000, progressIntervalMs: 0 };
    const { run, folder } = await download(`${url}/x.gguf`, settings, said, fill);
    const error = await run().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 507, code: "insufficient_disk_space" });
    expect((error as Error).message).toContain(folder);
    expect((error as Error).message).toMatch(/it needs .* but .* has 48.8 KiB \(50000 bytes\) free.*downloaded so far are kept, so asking again resumes/);
    const kept = (await stat(path.join(folder, "x.gguf.part"))).size;
    expect(kept).toBeGreaterThan(0);
    free = Number.MAX_SAFE_INTEGER;
    const done = await run();
    expect(done.sha256).toBe(createHash("sha256").update(BYTES).digest("hex"));
    expect(paths).toHaveLength(2);
    expect(said.join("\n")).toMatch(/arrived in an earlier attempt/);
  });
});
