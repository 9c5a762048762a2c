// A model is not kept out for good by another model's steady traffic: ONE real hive whose
// --memory-budget holds one worker of the tiny model, two models in its catalog, and two clients
// that keep model "tiny-busy" busy without a pause (a request in flight and the next one queued).
// Swapping rules alone (never stop a busy worker) would keep "tiny-starved" out until its client
// gave up; once its request has waited SWAP_DRAIN_AFTER_SECONDS, tiny-busy's worker is drained and
// tiny-starved loads. No request of either model is cut or lost on the way: tiny-busy's clients
// wait for their model's turn to come again. The scheduler-swap-drain test (queen project) shows
// the rules step by step.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalFleet, startLocalFleet, tinyModelFootprint } from "./local-fleet.js";

const HEARTBEAT_INTERVAL_MS = 500;

interface ListedJob {
  operation: string;
  params: { model?: string };
  created_at: string;
}

describe("a model starved by another model's steady traffic", () => {
  let fleet: LocalFleet;

  beforeAll(async () => {
    const { requiredBytes } = await tinyModelFootprint();
    fleet = await startLocalFleet({
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      // Room for one worker with its headroom, not two: the second model loads only by a swap.
      hives: [{ name: "busy-hive", memoryBudget: Math.floor(requiredBytes * 1.5) }],
      models: ["tiny-busy", "tiny-starved"],
      queenVars: { SWAP_MIN_RESIDENCY_SECONDS: "1", SWAP_DRAIN_AFTER_SECONDS: "2" },
    });
    await fleet.download("busy-hive", "tiny-busy");
    await fleet.download("busy-hive", "tiny-starved");
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
  });

  it("gets its turn once its request has waited SWAP_DRAIN_AFTER_SECONDS, and every request of both models is answered", async () => {
    const client = fleet.openAi();
    const ask = (model: string, content: string, maxTokens: number, timeout: number) =>
      client.chat.completions.create({ model, messages: [{ role: "user", content }], max_tokens: maxTokens }, { timeout });
    await ask("tiny-busy", "warm up", 8, 60_000);

    let keepGoing = true;
    const busyAnswers: string[] = [];
    const busyLoop = async (loop: number) => {
      for (let n = 0; keepGoing; n++) {
        // Long enough (hundreds of ms) that the next request is always queued before this one ends.
        const answer = await ask("tiny-busy", `loop ${loop}, request ${n}`, 300, 60_000);
        busyAnswers.push(answer.choices[0]?.finish_reason ?? "none");
      }
    };
    const loops = [busyLoop(0), busyLoop(1)];
    try {
      // Both loops are under way: tiny-busy has a request in flight or queued from now on.
      while (busyAnswers.length < 4) await new Promise((resolve) => setTimeout(resolve, 50));
      // Without the drain it would wait until the loops stop, which they do only after it: its timeout.
      const starved = await ask("tiny-starved", "my turn?", 8, 30_000);
      expect(starved.choices[0]?.message.content?.length).toBeGreaterThan(0);
    } finally {
      keepGoing = false;
      await Promise.all(loops);
    }

    // Every request the busy clients made was answered whole: a cut one would have thrown.
    expect(busyAnswers.length).toBeGreaterThan(4);
    expect(busyAnswers.filter((reason) => reason !== "length" && reason !== "stop")).toEqual([]);
    const response = await fetch(`${fleet.queen.url}/v1/jobs?hive=busy-hive&limit=50`, { headers: { authorization: `Bearer ${fleet.apiKey}` } });
    const loads = ((await response.json()) as { data: ListedJob[] }).data
      .filter((job) => job.operation === "worker_spawn")
      .sort((a, b) => a.created_at.localeCompare(b.created_at))
      .map((job) => job.params.model);
    expect(loads.slice(0, 2), "tiny-busy loaded, then swapped out for tiny-starved").toEqual(["tiny-busy", "tiny-starved"]);
  }, 120_000);
});
