// A valid worker heartbeat for tests that play a worker: the fields a test does not care about
// get plain values, the ones it does come from `overrides`.
import type { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";

export function fakeHeartbeat(overrides: Partial<WorkerHeartbeat> & Pick<WorkerHeartbeat, "workerId">): WorkerHeartbeat {
  return {
    model: "tiny",
    state: "ready",
    pid: 4242,
    port: 1,
    slotsTotal: 1,
    slotsBusy: 0,
    queueLength: 0,
    device: "cpu",
    memoryRssBytes: 1,
    memoryVramBytes: null,
    tokensPerSecond: 0,
    ...overrides,
  };
}
