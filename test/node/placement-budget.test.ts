// Placement respects each hive's memory budget: two real hives on this machine, one whose
// --memory-budget is too small for the tiny model and one with room for it, both with the model
// in their catalogs. The worker the queen starts for the first request lands on the big one; a
// model that only the small hive has is refused with a 503 that says what it needs and where the
// most memory is free, instead of a spawn that cannot load.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatBytes } from "../../queen/scheduling/memory-figures.js";
import { type LocalFleet, startLocalFleet, type TinyModelFootprint, tinyModelFootprint } from "./local-fleet.js";

const HEARTBEAT_INTERVAL_MS = 500;

describe("placement by memory budget", () => {
  let fleet: LocalFleet;
  let footprint: TinyModelFootprint;
  let smallBudget: number;

  beforeAll(async () => {
    footprint = await tinyModelFootprint();
    // Half of what the model wants free: it fits on neither as its only worker, whatever else.
    smallBudget = Math.floor(footprint.requiredBytes / 2);
    fleet = await startLocalFleet({
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      hives: [
        { name: "small-hive", memoryBudget: smallBudget },
        { name: "big-hive", memoryBudget: footprint.requiredBytes * 2 },
      ],
      models: ["tiny-shared", "tiny-small-only"],
    });
    await Promise.all([fleet.download("small-hive", "tiny-shared"), fleet.download("big-hive", "tiny-shared"), fleet.download("small-hive", "tiny-small-only")]);
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
  });

  it("starts the worker for a model both hives have on the hive whose budget fits it", async () => {
    const answer = await fleet.openAi().chat.completions.create({ model: "tiny-shared", messages: [{ role: "user", content: "Where do you run?" }], max_tokens: 8 });
    expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);
    const workers = await fleet.workers();
    expect(workers.map((worker) => ({ hive: worker.hive, model: worker.model }))).toEqual([{ hive: "big-hive", model: "tiny-shared" }]);
  }, 90_000);

  it("refuses a model too large for every hive that has it with 503 model_too_large, saying what it needs and the most free memory and where", async () => {
    const error = await fleet
      .openAi()
      .chat.completions.create({ model: "tiny-small-only", messages: [{ role: "user", content: "Hello" }], max_tokens: 8 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(503);
    expect(apiError.code).toBe("model_too_large");
    expect(apiError.message).toContain(`needs about ${formatBytes(footprint.memoryBytes)}`);
    expect(apiError.message).toContain(`the most free RAM is ${formatBytes(smallBudget)}, on hive small-hive`);
    expect((await fleet.workers()).filter((worker) => worker.model === "tiny-small-only")).toEqual([]);
  }, 30_000);
});
