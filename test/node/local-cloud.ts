// Test support: the whole local cloud for real — queen in workerd, a hive process, a worker
// process with the tiny model — in a temp folder, torn down after the suite.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { writeTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import { type HiveProcess, startHiveProcess } from "../../scripts/local-cloud/hive-process.js";
import { type LocalQueen, startLocalQueen } from "../../scripts/local-cloud/queen.js";
import { QueenClient } from "../../scripts/local-cloud/queen-client.js";
export { waitUntil } from "../../shared/wait-until.js";

export const TINY_MODEL = "rbee-tiny";

export interface LocalCloud {
  dir: string;
  queen: LocalQueen;
  /** The queen's bootstrap admin key (RBEE_ADMIN_KEY): both scopes. */
  apiKey: string;
  client: QueenClient;
  hive: HiveProcess;
  hiveLog: string[];
  modelSource: string;
  /** Stops the queen and starts a fresh one on the same port with the same state, as a deploy would. */
  restartQueen(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalCloud(options: { heartbeatIntervalMs: number; hiveName: string }): Promise<LocalCloud> {
  const dir = await mkdtemp(join(tmpdir(), "rbee-e2e-"));
  const modelPath = join(dir, "rbee-tiny.gguf");
  await writeTinyLlamaGguf(modelPath);
  const apiKey = "rbee_sk_e2e_test_key";
  const queenOptions = { persistDir: join(dir, "queen"), adminKey: apiKey, port: 0, heartbeatIntervalMs: options.heartbeatIntervalMs };
  let queen = await startLocalQueen(queenOptions);
  const client = new QueenClient(queen.url, apiKey);
  const { token } = await client.createHive(options.hiveName);
  const hiveLog: string[] = [];
  const hive = startHiveProcess({
    queenUrl: queen.url,
    name: options.hiveName,
    token,
    workerThreads: 1,
    onLine: (line) => hiveLog.push(line),
  });
  const restartQueen = async () => {
    const port = Number(new URL(queen.url).port);
    await queen.dispose();
    queen = await startLocalQueen({ ...queenOptions, port });
  };
  const stop = async () => {
    await hive.stop();
    await queen.dispose();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await hive.welcomed;
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${hiveLog.join("\n")}`);
  }
  return {
    dir,
    get queen() {
      return queen;
    },
    apiKey,
    client,
    hive,
    hiveLog,
    modelSource: pathToFileURL(modelPath).href,
    restartQueen,
    stop,
  };
}

/** Whether a process with this pid still exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

