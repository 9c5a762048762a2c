// A stand-in for GitHub's releases, for the worker catalog's tests: a real HTTP server on
// 127.0.0.1 that answers `GET /repos/:owner/:repo/releases/tags/:tag` in the REST API's JSON shape
// and serves assets the way github.com does, with a 302 from the `browser_download_url` to a
// storage path (objects.githubusercontent.com in real life). Counters let tests see what was asked.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeAsset {
  name: string;
  content: string | Uint8Array;
  /** The `digest` GitHub reports: default the real `sha256:…`; null for an asset without one; or any string, to lie. */
  digest?: string | null;
  /** Send half of the content, then hold the connection open: a download that hangs. */
  stall?: boolean;
}

export interface FakeGitHubCounters {
  /** Release lookups, found or not. */
  releaseLookups: number;
  /** Requests to `browser_download_url`s (each answered with a 302). */
  downloadRedirects: number;
  /** Requests to the storage path the redirects point to. */
  storageDownloads: number;
}

export interface FakeGitHub {
  /** Base URL of the API and of downloads, e.g. `http://127.0.0.1:41234`. */
  url: string;
  counters: FakeGitHubCounters;
  /** The `authorization` header of the last release lookup, if any. */
  lastAuthorization: string | undefined;
  addRelease(owner: string, repo: string, tag: string, assets: FakeAsset[]): void;
  close(): Promise<void>;
}

interface StoredAsset {
  id: number;
  name: string;
  bytes: Buffer;
  digest: string | null;
  stall: boolean;
}

export async function startFakeGitHub(): Promise<FakeGitHub> {
  const releases = new Map<string, StoredAsset[]>();
  const storage = new Map<number, StoredAsset>();
  let nextId = 1;
  const fake: FakeGitHub = {
    url: "",
    counters: { releaseLookups: 0, downloadRedirects: 0, storageDownloads: 0 },
    lastAuthorization: undefined,
    addRelease(owner, repo, tag, assets) {
      const stored = assets.map((asset): StoredAsset => {
        const bytes = Buffer.from(asset.content);
        const real = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
        const entry = { id: nextId++, name: asset.name, bytes, digest: asset.digest === undefined ? real : asset.digest, stall: asset.stall ?? false };
        storage.set(entry.id, entry);
        return entry;
      });
      releases.set(`${owner}/${repo}@${tag}`, stored);
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // fetch keeps connections alive; close() alone would wait for them
      }),
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? "/", fake.url);
    const parts = url.pathname.split("/").slice(1).map(decodeURIComponent);
    if (parts[0] === "repos" && parts[3] === "releases" && parts[4] === "tags" && parts.length === 6) {
      fake.counters.releaseLookups++;
      fake.lastAuthorization = request.headers.authorization;
      const [, owner = "", repo = "", , , tag = ""] = parts;
      const assets = releases.get(`${owner}/${repo}@${tag}`);
      if (!assets) return sendJson(response, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name", status: "404" });
      return sendJson(response, 200, releaseJson(fake.url, owner, repo, tag, assets));
    }
    if (parts[2] === "releases" && parts[3] === "download" && parts.length === 6) {
      fake.counters.downloadRedirects++;
      const asset = releases.get(`${parts[0]}/${parts[1]}@${parts[4]}`)?.find((candidate) => candidate.name === parts[5]);
      if (!asset) return sendJson(response, 404, { message: "Not Found" });
      response.writeHead(302, { location: `${fake.url}/storage/${asset.id}` }).end();
      return;
    }
    const stored = parts[0] === "storage" ? storage.get(Number(parts[1])) : undefined;
    if (stored) {
      fake.counters.storageDownloads++;
      response.writeHead(200, { "content-type": "application/octet-stream", "content-length": stored.bytes.length });
      if (stored.stall) response.write(stored.bytes.subarray(0, stored.bytes.length >> 1));
      else response.end(stored.bytes);
      return;
    }
    sendJson(response, 404, { message: "Not Found" });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/** The fields of GitHub's "get a release" answer (API version 2022-11-28), trimmed of user objects. */
function releaseJson(base: string, owner: string, repo: string, tag: string, assets: StoredAsset[]) {
  const api = `${base}/repos/${owner}/${repo}`;
  const now = new Date().toISOString();
  return {
    url: `${api}/releases/1`,
    html_url: `${base}/${owner}/${repo}/releases/tag/${tag}`,
    id: 1,
    tag_name: tag,
    target_commitish: "main",
    name: tag,
    draft: false,
    prerelease: false,
    created_at: now,
    published_at: now,
    assets: assets.map((asset) => ({
      url: `${api}/releases/assets/${asset.id}`,
      id: asset.id,
      name: asset.name,
      label: "",
      content_type: "application/octet-stream",
      state: "uploaded",
      size: asset.bytes.length,
      digest: asset.digest,
      download_count: 0,
      created_at: now,
      updated_at: now,
      browser_download_url: `${base}/${owner}/${repo}/releases/download/${tag}/${asset.name}`,
    })),
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
}
