// Orders worker versions (`0.10.0`, `0.2.0-rc.1`) by semver precedence, so the hive starts the
// newest installed worker: numbers compare as numbers, and a pre-release comes before its release.

/** Negative when `a` is older than `b`, positive when newer, 0 when equal (build metadata ignored). */
export function compareVersions(a: string, b: string): number {
  const left = split(a);
  const right = split(b);
  for (let i = 0; i < 3; i++) {
    const difference = (left.core[i] ?? 0) - (right.core[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  // A release is newer than any of its pre-releases.
  if (left.pre.length === 0 || right.pre.length === 0) return Math.sign(right.pre.length - left.pre.length);
  for (let i = 0; i < Math.max(left.pre.length, right.pre.length); i++) {
    const x = left.pre[i];
    const y = right.pre[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1; // fewer fields: older
    const order = compareIdentifiers(x, y);
    if (order !== 0) return order;
  }
  return 0;
}

function split(version: string): { core: number[]; pre: string[] } {
  const [withoutBuild = ""] = version.replace(/^v/, "").split("+");
  const dash = withoutBuild.indexOf("-");
  const core = (dash === -1 ? withoutBuild : withoutBuild.slice(0, dash)).split(".").map(Number);
  const pre = dash === -1 ? [] : withoutBuild.slice(dash + 1).split(".");
  return { core, pre };
}

/** Numeric identifiers compare as numbers and sort before alphanumeric ones (semver §11). */
function compareIdentifiers(x: string, y: string): number {
  const xNumeric = /^\d+$/.test(x);
  const yNumeric = /^\d+$/.test(y);
  if (xNumeric && yNumeric) return Math.sign(Number(x) - Number(y));
  if (xNumeric !== yNumeric) return xNumeric ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}
