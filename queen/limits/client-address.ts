// The client address a request is rate-limited under. Cloudflare sets `CF-Connecting-IP` on
// every request it proxies, and a client cannot override it there; `wrangler dev` sets it
// locally to the connecting socket's address. Where it is absent (a request that reached the
// Worker some other way: a test calling it in-process, or `npm start`'s local queen, which has no
// entry Worker in front and listens on loopback only, so its clients are one address anyway),
// every such request shares the one address UNKNOWN_CLIENT_ADDRESS. X-Forwarded-For is never
// read: any client can write it.

/** The address used when a request carries no `CF-Connecting-IP`. */
export const UNKNOWN_CLIENT_ADDRESS = "unknown";

/** Groups of an IPv6 address that name its network: one client is commonly given a whole /64. */
const IPV6_NETWORK_GROUPS = 4;

export function clientAddress(headers: Headers): string {
  const raw = headers.get("cf-connecting-ip")?.trim();
  if (!raw) return UNKNOWN_CLIENT_ADDRESS;
  return raw.includes(":") ? ipv6Network(raw) : raw;
}

/**
 * An IPv6 address reduced to its /64 (`2001:db8:0:1::/64`), so that one client cannot step past
 * its limit by using each of the 2^64 addresses it holds. An IPv4-mapped address (`::ffff:1.2.3.4`)
 * is its IPv4 address; something that is not IPv6 is kept as it came (it is only a counter's name).
 */
export function ipv6Network(address: string): string {
  const withoutZone = address.split("%")[0] ?? address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(withoutZone);
  if (mapped?.[1]) return mapped[1];
  const halves = withoutZone.split("::");
  if (halves.length > 2) return address;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return address;
  const groups = [...head, ...Array<string>(missing).fill("0"), ...tail];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return address;
  const network = groups.slice(0, IPV6_NETWORK_GROUPS).map((group) => Number.parseInt(group, 16).toString(16));
  return `${network.join(":")}::/64`;
}
