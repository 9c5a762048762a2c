// What the hive tells the queen about its machine in the hello.
import os from "node:os";
import packageJson from "../../package.json" with { type: "json" };

export function describeMachine(): { version: string; os: string; arch: string; cpuCores: number; memoryBytes: number } {
  return {
    version: packageJson.version,
    os: os.platform(),
    arch: os.arch(),
    cpuCores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
  };
}
