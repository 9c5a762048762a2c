// Swap without thrash: ONE real hive whose --memory-budget holds one worker of the tiny model at
// a time, two models (the tiny model under two names) in its catalog, and bursts of concurrent
// requests alternating between them with the client's retries off. Every request is answered,
// and the queen loads a model at most once per burst (the limit the README's scheduling section
// documents): it serves a loaded model's queue before swapping it out, and never loads a model
// twice in a row without the other having been served in between.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalFleet, startLocalFleet, tinyModelFootprint } from "../node/local-fleet.js";

const HEARTBEAT_INTERVAL_MS = 500;
const MODELS = ["tiny-left", "tiny-right"] as const;
// 100 requests. Each swap is a worker stopped and another loaded (seconds on a busy 2-core
// machine), so ten bursts make this a slow drill (`npm run drills`), not a node test.
const BURSTS = 10;
const REQUESTS_PER_BURST = 10;

interface ListedJob {
  operation: string;
  status: string;
  params: { model?: string };
  created_at: string;
}

describe("two models on a budget that holds one", () => {
  let fleet: LocalFleet;

  beforeAll(async () => {
    const { requiredBytes } = await tinyModelFootprint();
    fleet = await startLocalFleet({
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      // Room for one worker with its headroom, not two: a second model loads only by a swap.
      hives: [{ name: "swap-hive", memoryBudget: Math.floor(requiredBytes * 1.5) }],
      models: [...MODELS],
      // A loaded model may be swapped out 2 s after it became ready (default 60 s).
      queenVars: { SWAP_MIN_RESIDENCY_SECONDS: "2" },
    });
    for (const model of MODELS) await fleet.download("swap-hive", model);
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
  });

  async function spawnedModels(): Promise<string[]> {
    const response = await fetch(`${fleet.queen.url}/v1/jobs?hive=swap-hive&limit=200`, { headers: { authorization: `Bearer ${fleet.apiKey}` } });
    const jobs = ((await response.json()) as { data: ListedJob[] }).data;
    return jobs
      .filter((job) => job.operation === "worker_spawn")
      .sort((a, b) => a.created_at.localeCompare(b.created_at))
      .map((job) => job.params.model ?? "?");
  }

  it(`answers ${BURSTS * REQUESTS_PER_BURST} requests in alternating bursts, loading a model at most once per burst`, async () => {
    const client = fleet.openAi();
    let answered = 0;
    for (let burst = 0; burst < BURSTS; burst++) {
      const model = MODELS[burst % MODELS.length] ?? MODELS[0];
      const answers = await Promise.all(
        Array.from({ length: REQUESTS_PER_BURST }, (_, n) => client.chat.completions.create({ model, messages: [{ role: "user", content: `Burst ${burst}, request ${n}` }], max_tokens: 4 })),
      );
      for (const answer of answers) expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);
      answered += answers.length;
    }
    expect(answered).toBe(BURSTS * REQUESTS_PER_BURST);

    const loads = await spawnedModels();
    const swapsPer100 = ((loads.length - 1) * 100) / answered;
    console.log(`model swap: ${loads.length} loads (${loads.length - 1} swaps) for ${answered} requests in ${BURSTS} bursts of ${REQUESTS_PER_BURST}: ${swapsPer100.toFixed(1)} swaps per 100 requests; loads in order: ${loads.join(", ")}`);
    expect(loads.length).toBeLessThanOrEqual(BURSTS);
    // Only one fits at a time, so two loads of one model in a row mean it was unloaded and
    // loaded again while the other model was not served: a ping-pong.
    for (let index = 1; index < loads.length; index++) expect(loads[index], `load ${index + 1} of ${loads.join(", ")}`).not.toBe(loads[index - 1]);
  }, 240_000);
});
