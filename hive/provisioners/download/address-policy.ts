// Which network addresses a download may connect to. A model URL comes from whoever submits a job,
// and the server it names can redirect anywhere, so without this a hive would fetch from (and hand
// back errors about) its own LAN, the cloud metadata service at 169.254.169.254 or its own
// loopback services. Public addresses are fine; loopback only when the URL the job named was
// itself loopback (the tests' fake hub, a model server on the hive's own machine); private,
// link-local, carrier-grade NAT, multicast, unspecified and reserved addresses never.
import { BlockList, isIP } from "node:net";

export type AddressKind = "public" | "loopback" | "private" | "link-local" | "carrier-grade NAT" | "multicast" | "unspecified" | "reserved";

const RANGES: ReadonlyArray<[kind: Exclude<AddressKind, "public">, network: string, prefix: number, family: "ipv4" | "ipv6"]> = [
  ["unspecified", "0.0.0.0", 8, "ipv4"], // "this network": 0.0.0.0 reaches the local host on Linux
  ["private", "10.0.0.0", 8, "ipv4"],
  ["carrier-grade NAT", "100.64.0.0", 10, "ipv4"],
  ["loopback", "127.0.0.0", 8, "ipv4"],
  ["link-local", "169.254.0.0", 16, "ipv4"], // the cloud metadata services live here
  ["private", "172.16.0.0", 12, "ipv4"],
  ["reserved", "192.0.0.0", 24, "ipv4"],
  ["private", "192.168.0.0", 16, "ipv4"],
  ["reserved", "198.18.0.0", 15, "ipv4"], // benchmarking
  ["multicast", "224.0.0.0", 4, "ipv4"],
  ["reserved", "240.0.0.0", 4, "ipv4"], // and 255.255.255.255
  ["unspecified", "::", 128, "ipv6"],
  ["loopback", "::1", 128, "ipv6"],
  ["private", "fc00::", 7, "ipv6"], // unique local
  ["link-local", "fe80::", 10, "ipv6"],
  ["private", "fec0::", 10, "ipv6"], // old site-local
  ["multicast", "ff00::", 8, "ipv6"],
];

const LISTS = RANGES.map(([kind, network, prefix, family]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family); // BlockList also matches IPv4-mapped IPv6 (::ffff:10.0.0.1)
  return { kind, list };
});

/** What kind of address `address` (an IP literal, v4 or v6, without brackets) is. */
export function addressKind(address: string): AddressKind {
  const family = isIP(address);
  if (family === 0) throw new Error(`not an IP address: ${address}`);
  const embedded = family === 6 ? nat64Embedded(address) : null;
  if (embedded !== null) return addressKind(embedded);
  const type = family === 4 ? "ipv4" : "ipv6";
  return LISTS.find(({ list }) => list.check(address, type))?.kind ?? "public";
}

/** Whether a download may connect to an address of this kind; `loopbackAllowed` when the job's URL was loopback. */
export function addressAllowed(kind: AddressKind, loopbackAllowed: boolean): boolean {
  return kind === "public" || (kind === "loopback" && loopbackAllowed);
}

/** The IPv4 address inside a NAT64 address (64:ff9b::a00:1 is 10.0.0.1), which is what it reaches. */
function nat64Embedded(address: string): string | null {
  const nat64 = new BlockList();
  nat64.addSubnet("64:ff9b::", 96, "ipv6");
  if (!nat64.check(address, "ipv6")) return null;
  const groups = expandIpv6(address);
  const high = groups[6] ?? 0;
  const low = groups[7] ?? 0;
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
}

/** The eight 16-bit groups of an IPv6 address, `::` expanded (a dotted IPv4 tail counts as two). */
function expandIpv6(address: string): number[] {
  const toGroups = (part: string) =>
    part === ""
      ? []
      : part.split(":").flatMap((group) => {
          if (!group.includes(".")) return [parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split(".").map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = "", tail] = address.split("::");
  const first = toGroups(head);
  const last = tail === undefined ? [] : toGroups(tail);
  return [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
}
