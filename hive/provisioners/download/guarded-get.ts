// The GET a download makes, with every redirect followed by hand and checked before anything
// connects: a model URL comes from whoever submits a job, and its server may redirect anywhere
// (the hub to its CDN, but also a hostile server to the cloud metadata service or the LAN). Each
// hop must be https (http only to a loopback host), and every address its host resolves to must
// be allowed by address-policy.ts. Built on node:http/https rather than fetch for two reasons:
// - DNS rebinding: a name checked with one lookup could resolve to another address when the
//   connection looks it up again. The connection uses a `lookup` that answers with the address
//   that was checked, so what was checked is what is connected to (TLS still verifies the name).
// - Resume: fetch's web stream throws away the chunks it holds unread when the connection breaks
//   (Node 22 hands over none of a 100 kB body cut before its end), so those bytes were lost for the
//   resume; a node:http response gives every byte it received, see body-queue.ts.
import type { LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import { request as httpRequest, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { RbeeError } from "../../../shared/errors.js";
import { isLoopbackHost } from "../../../shared/loopback-host.js";
import { withoutQuery } from "../../../shared/redact-url.js";
import { addressAllowed, addressKind } from "./address-policy.js";
import { BodyQueue } from "./body-queue.js";

/** The addresses a host name resolves to (all of them: each is checked). */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

export const resolveHostWithDns: ResolveHost = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** Redirects followed before giving up: the hub's resolve URL takes one (to its CDN). */
export const MAX_REDIRECTS = 5;

/** An HTTP answer as the download reads it; `body` is already being received. */
export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: Headers;
  /** The URL that answered, after redirects. */
  url: string;
  body: BodyQueue;
}

/** What a refusal is judged by: a guarded answer or a fetch Response alike. */
export type AnswerHead = Pick<HttpAnswer, "status" | "statusText" | "headers" | "url">;

export interface GuardedGet {
  url: string;
  headers: Record<string, string>;
  signal: AbortSignal;
  resolveHost: ResolveHost;
}

/** GETs `url`, following up to MAX_REDIRECTS redirects, each hop checked; refuses with `download_address_refused`. */
export async function guardedGet(get: GuardedGet): Promise<HttpAnswer> {
  const origin = new URL(get.url);
  // The one exception to "public addresses only": a URL naming this machine (the tests' fake hub).
  const loopbackAllowed = isLoopbackHost(origin.hostname);
  let url = origin;
  let headers = get.headers;
  for (let hop = 0; ; hop++) {
    const address = await checkHop(url, loopbackAllowed, get);
    const answer = await send(url, headers, address, get.signal);
    const location = answer.headers.get("location");
    if (answer.status < 300 || answer.status >= 400 || answer.status === 304 || location === null) return answer;
    answer.body.discard();
    if (hop >= MAX_REDIRECTS) throw refused(get.url, `it redirected more than ${MAX_REDIRECTS} times`);
    const next = new URL(location, url);
    // As fetch does: credentials meant for one origin do not follow a redirect to another.
    if (next.origin !== url.origin) headers = Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== "authorization"));
    url = next;
  }
}

/** Checks one hop's scheme and every address of its host; returns the address to connect to. */
async function checkHop(url: URL, loopbackAllowed: boolean, get: GuardedGet): Promise<LookupAddress> {
  const where = url.origin;
  if (url.protocol !== "https:" && url.protocol !== "http:") throw refused(get.url, `a redirect led to ${where}, which is not https`);
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) throw refused(get.url, `it leads to ${where}: plain http is only allowed to this machine; use https`);
  if (url.username !== "" || url.password !== "") throw refused(get.url, `it leads to a URL carrying credentials (${where})`);
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: LookupAddress[];
  if (isIP(hostname) !== 0) addresses = [{ address: hostname, family: isIP(hostname) }];
  else {
    try {
      addresses = await get.resolveHost(hostname);
    } catch (error) {
      // A plain Error: a name that does not resolve now (no network yet) is worth retrying.
      throw new Error(`${url.host} could not be resolved (${(error as Error).message})`, { cause: error });
    }
  }
  if (addresses.length === 0) throw new Error(`${url.host} resolves to no address`);
  for (const { address } of addresses) {
    const kind = addressKind(address);
    if (!addressAllowed(kind, loopbackAllowed)) {
      throw refused(get.url, `it leads to ${url.host}, which is ${address === hostname ? "" : `resolves to ${address}, `}a ${kind} address; downloads reach public addresses only (loopback only when the model URL itself names this machine)`);
    }
  }
  return addresses[0] as LookupAddress;
}

function send(url: URL, headers: Record<string, string>, address: LookupAddress, signal: AbortSignal): Promise<HttpAnswer> {
  // Whatever name the connection asks about, it gets the address that was checked. Node asks with
  // `all: true` when it tries several address families (autoSelectFamily), so both forms answer.
  const pinned = ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, [address]);
    else callback(null, address.address, address.family);
  }) as unknown as LookupFunction;
  const options: RequestOptions = { method: "GET", headers, signal, lookup: pinned };
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(url, options, (body) => {
      const answerHeaders = new Headers();
      for (const [name, value] of Object.entries(body.headers)) {
        for (const each of Array.isArray(value) ? value : value === undefined ? [] : [value]) answerHeaders.append(name, each);
      }
      resolve({ status: body.statusCode ?? 0, statusText: body.statusMessage ?? "", headers: answerHeaders, url: url.href, body: new BodyQueue(body) });
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}

function refused(url: string, why: string): RbeeError {
  return new RbeeError(403, "download_address_refused", `refusing to download ${withoutQuery(url)}: ${why}`);
}
