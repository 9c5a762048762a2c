// The hive_check operation: narrates what this machine is (Node, OS, CPU, memory) and which GPU
// backends node-llama-cpp can use here, and returns the same as data for programs.
import os from "node:os";
import packageJson from "../../package.json" with { type: "json" };
import type { JobContext } from "./job-context.js";

const GIB = 1024 ** 3;

export async function runHiveCheck(context: JobContext): Promise<void> {
  const cpus = os.cpus();
  const machine = {
    hive_version: packageJson.version,
    node: process.version,
    os: { platform: os.platform(), release: os.release(), arch: os.arch() },
    cpu: { model: cpus[0]?.model.trim() ?? "unknown", cores: os.availableParallelism() },
    memory: { total_bytes: os.totalmem(), free_bytes: os.freemem() },
  };
  context.narrate("node", `Node ${machine.node}, rbee-hive ${machine.hive_version}`);
  context.narrate("os", `${machine.os.platform} ${machine.os.release} (${machine.os.arch})`);
  context.narrate("cpu", `${machine.cpu.model}, ${machine.cpu.cores} cores`);
  context.narrate("memory", `${(machine.memory.total_bytes / GIB).toFixed(1)} GiB total, ${(machine.memory.free_bytes / GIB).toFixed(1)} GiB free`);
  context.signal.throwIfAborted();

  // Imported here, not at the top: loading node-llama-cpp takes ~0.5 s the daemon need not pay.
  const { getLlamaGpuTypes } = await import("node-llama-cpp");
  // `false` in node-llama-cpp's list means "no GPU": the CPU backend, always available.
  const usable = (await getLlamaGpuTypes("supported")).filter((type) => type !== false);
  const possible = (await getLlamaGpuTypes("allValid")).filter((type) => type !== false);
  context.signal.throwIfAborted();
  context.narrate(
    "gpu",
    usable.length > 0
      ? `GPU backends usable here: ${usable.join(", ")}`
      : `no GPU backend usable here (possible on this platform with drivers: ${possible.join(", ") || "none"}); workers run on the CPU`,
  );
  context.data({ ...machine, gpu: { usable, possible } });
}
