// HiveStatusReporter orders a catalog change before the heartbeats that wait for it: a new
// worker's model reaches the queen's view before the worker does, however slowly the catalog is
// read (on a loaded machine the heartbeat once overtook it).
import { describe, expect, it } from "vitest";
import type { ModelArtifact } from "../catalog/model/model-artifact.js";
import { TEST_DEVICES } from "../../test/support/test-devices.js";
import { HiveStatusReporter } from "./hive-status-reporter.js";

function reporter() {
  const told: string[] = [];
  let listing: Promise<ModelArtifact[]> = Promise.resolve([]);
  const status = new HiveStatusReporter({
    detectDevices: async () => TEST_DEVICES,
    listModels: () => listing,
    memoryBudget: undefined,
    send: () => told.push("hive_status"),
    heartbeatIntervalMs: () => 1000,
    log: () => {},
  });
  /** The next catalog reads wait for the returned function. */
  const slowCatalog = (): (() => void) => {
    let finish: () => void = () => {};
    listing = new Promise((resolve) => (finish = () => resolve([])));
    return finish;
  };
  return { status, told, slowCatalog };
}

describe("HiveStatusReporter", () => {
  it("runs what waits for a catalog change after its hive_status is sent, in the order asked", async () => {
    const { status, told, slowCatalog } = reporter();
    await status.start();
    const finish = slowCatalog();
    status.catalogChanged();
    status.afterCatalogSent(() => told.push("heartbeat 1"));
    status.afterCatalogSent(() => told.push("heartbeat 2"));
    expect(told).toEqual([]);
    finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(told).toEqual(["hive_status", "heartbeat 1", "heartbeat 2"]);
    status.stop();
  });

  it("runs it at once when no catalog change is in flight", async () => {
    const { status, told } = reporter();
    await status.start();
    status.afterCatalogSent(() => told.push("heartbeat"));
    expect(told).toEqual(["heartbeat"]);
    status.stop();
  });
});
