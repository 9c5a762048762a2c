// Reads what a model catalog entry records about a GGUF from the file's own header, and asks
// node-llama-cpp how much memory loading it would take. Loads node-llama-cpp lazily: the hive
// only pays for it when a model lands in the catalog. The header is walked first by a bounded
// reader of our own (gguf-header-bounds.ts): the file is untrusted, node-llama-cpp's reader is not
// built for hostile counts, and it runs inside the hive process.
import { stat } from "node:fs/promises";
import { RbeeError } from "../../../shared/errors.js";
import { MAX_DEFAULT_CONTEXT_SIZE } from "../../../shared/protocol/worker-launch.js";
import { checkGgufHeaderBounds } from "./gguf-header-bounds.js";
import type { GgufSummary, MemoryEstimate } from "./model-artifact.js";

export interface GgufFacts {
  gguf: GgufSummary;
  memory: MemoryEstimate | null;
}

export async function readGgufSummary(filePath: string): Promise<GgufFacts> {
  await checkGgufHeaderBounds(filePath);
  const { readGgufFileInfo, GgufInsights, GgufFileType } = await import("node-llama-cpp");
  let info;
  try {
    info = await readGgufFileInfo(filePath, { sourceType: "filesystem", logWarnings: false, ignoreKeys: ["tokenizer.ggml.merges"] });
  } catch (error) {
    throw new RbeeError(422, "invalid_gguf", `'${filePath}' is not a readable GGUF file: ${(error as Error).message}`, { cause: error });
  }
  // node-llama-cpp reads past the end of a cut-off file as zeros instead of failing, which would
  // record garbage (an architecture of NULs); a header that ends beyond the file was cut off.
  const { size } = await stat(filePath);
  if (info.infoEndOffset !== undefined && info.infoEndOffset > size) {
    throw new RbeeError(422, "invalid_gguf", `'${filePath}' is not a readable GGUF file: its header runs to byte ${info.infoEndOffset} but the file has ${size} bytes; it was cut off`);
  }
  const general = info.metadata.general;
  const architecture = general?.architecture ?? null;
  const architectureMetadata = architecture ? (info.metadata as Record<string, unknown>)[architecture] : undefined;
  const contextLength = readNumber(architectureMetadata, "context_length");
  const tensors = info.fullTensorInfo ?? info.tensorInfo ?? [];
  const parameterCount = tensors.length === 0 ? null : tensors.reduce((sum, tensor) => sum + tensor.dimensions.reduce<number>((product, dimension) => product * Number(dimension), 1), 0);
  const fileType = general?.file_type;
  const gguf: GgufSummary = {
    architecture,
    name: general?.name ?? null,
    contextLength,
    parameterCount,
    quantization: fileType === undefined ? null : (GgufFileType[fileType] ?? `file_type ${fileType}`),
    hasChatTemplate: typeof info.metadata.tokenizer?.chat_template === "string",
  };
  // Tensors of a type node-llama-cpp cannot size: the entry is still usable, without an estimate.
  const insights = await GgufInsights.from(info).catch(() => undefined);
  // The tensors' data follows the header; their sizes summed is where it ends at least.
  const dataEnd = insights === undefined || info.infoEndOffset === undefined ? undefined : info.infoEndOffset + insights.modelSize;
  // A body cut short with no length to check it by (a server that sends none, then closes) still
  // has its header whole: the tensors' data is where it falls short, which llama.cpp finds only
  // when a worker loads it.
  if (dataEnd !== undefined && dataEnd > size) {
    throw new RbeeError(422, "invalid_gguf", `'${filePath}' is not a whole GGUF file: its tensors' data runs to byte ${dataEnd} but the file has ${size} bytes; it was cut off`);
  }
  return { gguf, memory: insights === undefined ? null : await estimateMemory(insights, contextLength) };
}

type Insights = Awaited<ReturnType<(typeof import("node-llama-cpp"))["GgufInsights"]["from"]>>;

async function estimateMemory(insights: Insights, contextLength: number | null): Promise<MemoryEstimate | null> {
  try {
    // The context a worker picks when not told, for the estimate.
    const contextSize = Math.min(contextLength ?? MAX_DEFAULT_CONTEXT_SIZE, MAX_DEFAULT_CONTEXT_SIZE);
    const layers = insights.totalLayers;
    const onCpu = await insights.estimateModelResourceRequirementsV2({ gpuLayers: 0 });
    const offloaded = await insights.estimateModelResourceRequirementsV2({ gpuLayers: layers });
    const contextOnCpu = await insights.estimateContextResourceRequirementsV2({ contextSize, modelGpuLayers: 0 });
    const contextOffloaded = await insights.estimateContextResourceRequirementsV2({ contextSize, modelGpuLayers: layers });
    // Without a Llama, GgufInsights simulates on node-llama-cpp's backend-less CPU build, which
    // reports the whole context (KV cache, compute buffers) as RAM whatever the layer split; with
    // every layer on a GPU that memory is VRAM, so it counts there (at worst an overestimate).
    return {
      contextSize,
      cpuOnlyRamBytes: Math.round(onCpu.cpuRam + contextOnCpu.cpuRam),
      fullOffloadVramBytes: Math.round(offloaded.gpuVram + contextOffloaded.gpuVram + contextOffloaded.cpuRam),
    };
  } catch {
    return null; // an architecture node-llama-cpp cannot estimate: the entry is still usable
  }
}

function readNumber(record: unknown, key: string): number | null {
  if (typeof record !== "object" || record === null) return null;
  const value = (record as Record<string, unknown>)[key];
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : null;
}
