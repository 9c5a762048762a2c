// A local Hugging Face Hub for tests: a real HTTP server on 127.0.0.1 that answers the calls the
// model vendors make the way the hub does (the tree API, `resolve` URLs that 302 to a CDN with
// X-Linked-Etag/X-Linked-Size/X-Repo-Commit, Range on the CDN, 401/403 for gated and private
// repos), with faults a test can switch on per file (a cut or stalled connection, a wrong
// published SHA-256, a huge advertised size, slow serving) and a log of every request it saw.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeFile {
  /** Path in the repo, e.g. `tiny-Q4_K_M.gguf` or `Q8_0/tiny.gguf`. */
  path: string;
  bytes: Uint8Array;
  /** Stored in LFS (the default): resolve answers 302 to the CDN; else 200 with the bytes. */
  lfs?: boolean;
  /** The next `cutTimes` CDN answers for this file stop after `cutAfterBytes` bytes of body. */
  cutAfterBytes?: number;
  cutTimes?: number;
  /** How a cut ends: `close` the connection (default), or `stall`: keep it open and send nothing more. */
  cutMode?: "close" | "stall";
  /** Publish the SHA-256 of other bytes in X-Linked-Etag. */
  publishWrongSha256?: boolean;
  /** X-Linked-Size to publish instead of the real size. */
  advertisedSize?: number;
  /** Serve the CDN body at about this rate, bytes per second. */
  bytesPerSecond?: number;
  /** Answer Range requests with 200 and the whole file, as servers without range support do. */
  ignoreRange?: boolean;
  /** The CDN answers this status instead of the file (the hub still lists and resolves it). */
  cdnStatus?: number;
}

export interface FakeRepo {
  /** `org/name`. */
  id: string;
  files: FakeFile[];
  /** `gated` repos list their files to anyone; `private` ones answer 401 like unknown repos. */
  access?: { kind: "gated" | "private"; token: string };
}

export interface SeenRequest {
  server: "hub" | "cdn";
  method: string;
  /** Path and query, e.g. `/org/repo/resolve/main/x.gguf`. */
  path: string;
  range: string | null;
  ifRange: string | null;
  authorization: string | null;
}

export interface FakeHubOptions {
  repos: FakeRepo[];
  /** Serve the CDN from a second server (another origin), as the real hub does. */
  separateCdn?: boolean;
  /** Entries per page of the tree API before a `Link: rel="next"`. */
  treePageSize?: number;
}

export class FakeHub {
  readonly requests: SeenRequest[] = [];
  /** CDN answers whose connection closed before the whole body was sent (a client that went away). */
  closedEarly = 0;

  private constructor(
    private readonly options: FakeHubOptions,
    private readonly servers: Server[],
    readonly url: string,
    readonly cdnUrl: string,
  ) {}

  static async start(options: FakeHubOptions): Promise<FakeHub> {
    const hubServer = createServer();
    const cdnServer = options.separateCdn ? createServer() : hubServer;
    const servers = options.separateCdn ? [hubServer, cdnServer] : [hubServer];
    const urls = await Promise.all(servers.map(listen));
    const hub = new FakeHub(options, servers, urls[0] ?? "", urls[urls.length - 1] ?? "");
    hubServer.on("request", (request, response) => hub.route(request, response, "hub"));
    if (cdnServer !== hubServer) cdnServer.on("request", (request, response) => hub.route(request, response, "cdn"));
    return hub;
  }

  /** The repo's commit: fixed per repo id, 40 hex digits like a git SHA-1. */
  commitOf(repoId: string): string {
    return createHash("sha1").update(repoId).digest("hex");
  }

  file(repoId: string, filePath: string): FakeFile {
    const file = this.options.repos.find((repo) => repo.id === repoId)?.files.find((each) => each.path === filePath);
    if (!file) throw new Error(`fake hub: no ${repoId}/${filePath}`);
    return file;
  }

  /** A plain URL of the file on the CDN (what the https vendor is given). */
  plainUrl(repoId: string, filePath: string): string {
    return `${this.cdnUrl}/cdn/${repoId}/${this.commitOf(repoId)}/${filePath}`;
  }

  /** Requests whose path (without query) ends with `suffix`, optionally of one method. */
  seen(suffix: string, method?: string): SeenRequest[] {
    return this.requests.filter((each) => each.path.split("?")[0]?.endsWith(suffix) && (method === undefined || each.method === method));
  }

  async close(): Promise<void> {
    for (const server of this.servers) server.closeAllConnections();
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }

  private route(request: IncomingMessage, response: ServerResponse, server: "hub" | "cdn"): void {
    const url = new URL(request.url ?? "/", "http://fake");
    const header = (name: string) => (typeof request.headers[name] === "string" ? (request.headers[name] as string) : null);
    const path = `${url.pathname}${url.search}`;
    this.requests.push({ server, method: request.method ?? "GET", path, range: header("range"), ifRange: header("if-range"), authorization: header("authorization") });
    const parts = url.pathname.split("/").slice(1).map(decodeURIComponent);
    if (parts[0] === "cdn") return void this.serveCdn(parts.slice(1), request, response);
    if (server === "cdn") return notFound(response, "EntryNotFound");
    if (parts[0] === "api" && parts[1] === "models" && parts[4] === "tree") return this.serveTree(parts, url, header("authorization"), response);
    if (parts[2] === "resolve") return this.serveResolve(parts, request, header("authorization"), response);
    notFound(response, "EntryNotFound");
  }

  /** `GET /api/models/{org}/{name}/tree/{revision}?recursive=true`. */
  private serveTree(parts: string[], url: URL, authorization: string | null, response: ServerResponse): void {
    const repo = this.openRepo(`${parts[2]}/${parts[3]}`, authorization, true, response);
    if (!repo || !this.checkRevision(repo, parts[5] ?? "", response)) return;
    const entries = repo.files.map((file) => ({
      type: "file",
      oid: createHash("sha1").update(file.bytes).digest("hex"),
      size: file.bytes.length,
      path: file.path,
      ...(file.lfs === false ? {} : { lfs: { oid: sha256(file.bytes), size: file.bytes.length, pointerSize: 134 } }),
    }));
    const pageSize = this.options.treePageSize ?? 1000;
    const start = Number(url.searchParams.get("cursor") ?? "0");
    const page = entries.slice(start, start + pageSize);
    if (start + pageSize < entries.length) {
      const next = new URL(url.href.replace("http://fake", this.url));
      next.searchParams.set("cursor", String(start + pageSize));
      response.setHeader("link", `<${next.href}>; rel="next"`);
    }
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(page));
  }

  /** `HEAD|GET /{org}/{name}/resolve/{revision}/{path}`. */
  private serveResolve(parts: string[], request: IncomingMessage, authorization: string | null, response: ServerResponse): void {
    const repoId = `${parts[0]}/${parts[1]}`;
    const repo = this.openRepo(repoId, authorization, false, response);
    if (!repo || !this.checkRevision(repo, parts[3] ?? "", response)) return;
    const file = repo.files.find((each) => each.path === parts.slice(4).join("/"));
    if (!file) return notFound(response, "EntryNotFound");
    const commit = this.commitOf(repoId);
    if (file.lfs === false) {
      const etag = `"${createHash("sha1").update(file.bytes).digest("hex")}"`;
      response.writeHead(200, { etag, "x-repo-commit": commit, "content-length": file.bytes.length });
      return void response.end(request.method === "HEAD" ? undefined : file.bytes);
    }
    const published = file.publishWrongSha256 ? sha256(new TextEncoder().encode("something else")) : sha256(file.bytes);
    response.writeHead(302, {
      location: `${this.cdnUrl}/cdn/${repoId}/${commit}/${file.path}?signature=fake`,
      etag: `"${published}"`,
      "x-linked-etag": `"${published}"`,
      "x-linked-size": String(file.advertisedSize ?? file.bytes.length),
      "x-repo-commit": commit,
    });
    response.end();
  }

  /** `GET|HEAD /cdn/{org}/{name}/{commit}/{path}`: the file's bytes, honouring Range; faults apply here. */
  private async serveCdn(parts: string[], request: IncomingMessage, response: ServerResponse): Promise<void> {
    const repo = this.options.repos.find((each) => each.id === `${parts[0]}/${parts[1]}`);
    const file = repo?.files.find((each) => each.path === parts.slice(3).join("/"));
    if (!repo || !file || parts[2] !== this.commitOf(repo.id)) return notFound(response, "EntryNotFound");
    if (file.cdnStatus !== undefined) return void response.writeHead(file.cdnStatus).end();
    const size = file.bytes.length;
    const etag = `"${sha256(file.bytes)}"`;
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? "");
    const ifRange = request.headers["if-range"];
    let start = 0;
    if (range && !file.ignoreRange && (ifRange === undefined || ifRange === etag)) {
      start = Number(range[1]);
      if (start >= size) return void response.writeHead(416, { "content-range": `bytes */${size}` }).end();
      response.writeHead(206, { "content-range": `bytes ${start}-${size - 1}/${size}`, "content-length": size - start, etag, "accept-ranges": "bytes" });
    } else {
      response.writeHead(200, { "content-length": size, etag, "accept-ranges": "bytes", "content-type": "application/octet-stream" });
    }
    if (request.method === "HEAD") return void response.end();
    let cutAt: number | undefined;
    if ((file.cutTimes ?? 0) > 0) {
      file.cutTimes = (file.cutTimes ?? 0) - 1;
      cutAt = Math.min(size, start + (file.cutAfterBytes ?? 0));
    }
    response.on("close", () => {
      if (!response.writableFinished && cutAt === undefined) this.closedEarly++;
    });
    await sendBytes(response, file.bytes.subarray(start, cutAt ?? size), file.bytesPerSecond);
    if (cutAt === undefined) response.end();
    // end(), not destroy(): the FIN goes out after every byte written, so the cut lands exactly at
    // `cutAfterBytes`; destroy() may reset the connection and lose bytes still in flight.
    else if (file.cutMode !== "stall") response.socket?.end();
  }

  /** The repo if this caller may see it; else answers as the hub does and returns undefined. */
  private openRepo(repoId: string, authorization: string | null, listing: boolean, response: ServerResponse): FakeRepo | undefined {
    const repo = this.options.repos.find((each) => each.id === repoId);
    // The hub answers 401 for unknown repos to anonymous callers, so as not to reveal private ones.
    if (!repo) return void (authorization ? notFound(response, "RepoNotFound") : refuse(response, 401, "RepoNotFound"));
    const access = repo.access;
    if (!access || authorization === `Bearer ${access.token}`) return repo;
    if (access.kind === "gated" && listing) return repo;
    if (access.kind === "private") return void refuse(response, 401, "RepoNotFound");
    return void refuse(response, authorization ? 403 : 401, "GatedRepo");
  }

  private checkRevision(repo: FakeRepo, revision: string, response: ServerResponse): boolean {
    if (revision === "main" || revision === this.commitOf(repo.id)) return true;
    notFound(response, "RevisionNotFound");
    return false;
  }
}

async function sendBytes(response: ServerResponse, bytes: Uint8Array, bytesPerSecond: number | undefined): Promise<void> {
  const tickMs = 50;
  const chunk = bytesPerSecond === undefined ? 64 * 1024 : Math.max(1, Math.floor((bytesPerSecond * tickMs) / 1000));
  for (let sent = 0; sent < bytes.length && !response.destroyed; sent += chunk) {
    await new Promise<void>((resolve) => response.write(bytes.subarray(sent, sent + chunk), () => resolve()));
    if (bytesPerSecond !== undefined) await new Promise((resolve) => setTimeout(resolve, tickMs));
  }
}

function refuse(response: ServerResponse, status: number, errorCode: string): void {
  response.writeHead(status, { "x-error-code": errorCode, "content-type": "application/json" }).end(JSON.stringify({ error: errorCode }));
}

function notFound(response: ServerResponse, errorCode: string): void {
  refuse(response, 404, errorCode);
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}
