// How catalog entries leave the hive in job data: snake_case like the rest of the public API,
// with the status flattened (`status`, and `reason` when it failed).
import type { Artifact } from "../catalog/artifact.js";
import type { ModelArtifact } from "../catalog/model/model-artifact.js";
import type { WorkerArtifact } from "../catalog/worker/worker-artifact.js";

function commonView(entry: Artifact) {
  return {
    id: entry.id,
    status: entry.status.state,
    ...(entry.status.state === "failed" ? { reason: entry.status.reason } : {}),
    size_bytes: entry.sizeBytes,
    added_at: entry.addedAt,
  };
}

export function modelView(entry: ModelArtifact) {
  const details = entry.details;
  if (!details) return commonView(entry);
  const { gguf, memory } = details;
  return {
    ...commonView(entry),
    vendor: details.vendor,
    file_name: details.fileName,
    origin: details.origin,
    sha256: details.sha256,
    linked: details.linked,
    gguf: {
      architecture: gguf.architecture,
      name: gguf.name,
      context_length: gguf.contextLength,
      parameter_count: gguf.parameterCount,
      quantization: gguf.quantization,
      has_chat_template: gguf.hasChatTemplate,
    },
    memory: memory && {
      context_size: memory.contextSize,
      cpu_only_ram_bytes: memory.cpuOnlyRamBytes,
      full_offload_vram_bytes: memory.fullOffloadVramBytes,
    },
    /** The names its workers were started under, the latest first. */
    served_as: (entry.servedAs ?? []).map((served) => served.name),
  };
}

export function workerView(entry: WorkerArtifact) {
  const details = entry.details;
  if (!details) return commonView(entry);
  return {
    ...commonView(entry),
    worker_type: details.workerType,
    version: details.version,
    platform: details.platform,
    vendor: details.vendor,
    origin: details.origin,
    runtime: details.runtime,
    sha256: details.sha256,
    // Local builds: which llama.cpp the worker loads (prebuilt, or compiled here with which toolchain).
    llama_build: details.llamaBuild ?? null,
  };
}
