// The hive_check operation: narrates what this machine is (Node, OS, CPU, memory, GPUs) and which
// worker types run here, from the same device detection the hello uses, and returns it as data.
import packageJson from "../../package.json" with { type: "json" };
import { publicDevices } from "../../shared/protocol/hive-devices.js";
import { detectDevices } from "../devices/detect-devices.js";
import type { JobContext } from "./job-context.js";

const GIB = 1024 ** 3;

export async function runHiveCheck(context: JobContext): Promise<void> {
  const devices = await detectDevices();
  context.signal.throwIfAborted();
  context.narrate("node", `Node ${process.version}, rbee-hive ${packageJson.version}`);
  context.narrate("os", `${devices.os} ${devices.osRelease} (${devices.arch})`);
  context.narrate("cpu", `${devices.cpu.model}, ${devices.cpu.cores} cores`);
  context.narrate("memory", `${(devices.ramTotalBytes / GIB).toFixed(1)} GiB total, ${(devices.ramFreeBytes / GIB).toFixed(1)} GiB free`);
  const gpus = devices.gpus.map((gpu) => {
    const vram = gpu.vramTotalBytes === null ? "memory unknown" : `${(gpu.vramTotalBytes / GIB).toFixed(1)} GiB`;
    return `${gpu.backend} #${gpu.index} ${gpu.name} (${vram})`;
  });
  context.narrate(
    "gpu",
    `${gpus.length > 0 ? `GPUs: ${gpus.join("; ")}` : "no GPU found"}; worker types that run here: ${devices.workerTypes.join(", ")}`,
  );
  context.data({ hive_version: packageJson.version, node: process.version, devices: publicDevices(devices) });
}
