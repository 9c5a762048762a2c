// Drill: the hive's socket is cut without a close frame (a TCP proxy between hive and queen
// freezes the connection: nothing passes, nothing is closed). Both ends must notice on their own
// within the heartbeat timeout (3 intervals): the hive by its pings going unanswered, the queen
// by the hive's silence. Then the hive reconnects (through the proxy, which forwards new
// connections) and is online again.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type HiveProcess, startHiveProcess } from "../../scripts/local-cloud/hive-process.js";
import { type LocalQueen, startLocalQueen } from "../../scripts/local-cloud/queen.js";
import { QueenClient } from "../../scripts/local-cloud/queen-client.js";
import { HEARTBEAT_TIMEOUT_INTERVALS } from "../../shared/protocol/hive-socket-limits.js";
import { waitUntil } from "../../shared/wait-until.js";
import { TcpProxy } from "../support/tcp-proxy.js";

const HEARTBEAT_INTERVAL_MS = 1000;
const HIVE = "half-open-hive";
const ADMIN_KEY = "rbee_sk_drill_half_open";

describe("drill: a half-open hive socket", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("is noticed by both the hive and the queen, and the hive reconnects", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rbee-half-open-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const queen: LocalQueen = await startLocalQueen({ persistDir: join(dir, "queen"), adminKey: ADMIN_KEY, port: 0, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS });
    cleanups.push(() => queen.dispose());
    const client = new QueenClient(queen.url, ADMIN_KEY);
    const { token } = await client.createHive(HIVE);
    const proxy = await TcpProxy.start(Number(new URL(queen.url).port));
    cleanups.push(() => proxy.close());
    const lines: { atMs: number; line: string }[] = [];
    const hive: HiveProcess = startHiveProcess({
      queenUrl: `http://127.0.0.1:${proxy.port}`,
      name: HIVE,
      token,
      cacheDir: join(dir, "cache"),
      onLine: (line) => lines.push({ atMs: Date.now(), line }),
    });
    cleanups.push(() => hive.stop());
    await hive.welcomed;
    const online = async () => {
      const response = await fetch(`${queen.url}/v1/hives`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      return ((await response.json()) as { data: Array<{ name: string; online: boolean }> }).data.some((each) => each.name === HIVE && each.online);
    };
    await waitUntil(online, 10_000, "the hive to be online");

    const cutAtMs = Date.now();
    const frozen = proxy.freeze();
    // Until both ends noticed, the hive cannot get a new connection through: what the queen sees
    // is the old socket's silence, not a successor replacing it.
    proxy.refuseNew = true;
    const welcomesBefore = lines.filter(({ line }) => line.includes("queen welcomed")).length;
    await waitUntil(async () => !(await online()), 30_000, "the queen to notice the silent hive");
    const queenNoticedAtMs = Date.now();
    await waitUntil(() => lines.some(({ line }) => line.includes("nothing from the queen for")), 30_000, "the hive to notice the silent queen");
    const hiveNoticed = lines.find(({ line }) => line.includes("nothing from the queen for"));
    proxy.refuseNew = false;
    await waitUntil(() => lines.filter(({ line }) => line.includes("queen welcomed")).length > welcomesBefore, 60_000, "the hive to be welcomed again");
    await waitUntil(online, 10_000, "the hive to be online again");
    const backAtMs = Date.now();

    const timeoutMs = HEARTBEAT_INTERVAL_MS * HEARTBEAT_TIMEOUT_INTERVALS;
    console.log(
      `half-open drill: froze ${frozen} connection(s); heartbeat timeout ${timeoutMs} ms; ` +
        `the hive noticed after ${(hiveNoticed?.atMs ?? 0) - cutAtMs} ms ("${hiveNoticed?.line}"); ` +
        `the queen listed it offline after ${queenNoticedAtMs - cutAtMs} ms; ` +
        `online again after ${backAtMs - cutAtMs} ms`,
    );
    expect(frozen).toBeGreaterThan(0);
    expect(hiveNoticed).toBeDefined();
    expect(await online()).toBe(true);
  });
});
