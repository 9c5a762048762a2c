// Runs one of the system tools device detection asks (nvidia-smi, vulkaninfo, sysctl) and hands
// back its output, or nothing: a machine without the tool simply lacks what it reports on.
import { execa } from "execa";

export interface ToolOptions {
  /** The whole environment the tool runs with; its PATH decides which binary is found. */
  env: NodeJS.ProcessEnv;
  /** How long the tool may run before it is killed and treated as absent, ms. */
  timeoutMs: number;
  /** Told why a tool that exists failed; an absent tool is normal and not reported. */
  log: (line: string) => void;
}

/** The tool's stdout, or undefined when it is not installed, failed or timed out. */
export async function runTool(file: string, args: readonly string[], options: ToolOptions): Promise<string | undefined> {
  const result = await execa(file, args, {
    env: options.env,
    // Only the given environment, so a test's PATH decides alone which binary runs.
    extendEnv: false,
    timeout: options.timeoutMs,
    reject: false,
    stdin: "ignore",
    // A wedged driver can make nvidia-smi print for ever; its real output is a few KiB.
    maxBuffer: 1024 * 1024,
  });
  if (!result.failed) return result.stdout;
  if (result.code === "ENOENT") return undefined;
  const why = result.timedOut
    ? `did not answer within ${options.timeoutMs} ms`
    : `failed (${result.exitCode === undefined ? result.code ?? "no exit code" : `exit code ${result.exitCode}`}): ${firstLine(result.stderr || result.stdout)}`;
  options.log(`device detection: ${file} ${why}; ignoring what it would report`);
  return undefined;
}

/**
 * The stdout of the first of `files` that is installed and answers: a tool goes by other names
 * or lives off PATH on some platforms (see toolNames).
 */
export async function runFirstTool(files: readonly string[], args: readonly string[], options: ToolOptions): Promise<string | undefined> {
  for (const file of files) {
    const output = await runTool(file, args, options);
    if (output !== undefined) return output;
  }
  return undefined;
}

/**
 * Where each platform keeps a device tool. Windows: nvidia-smi.exe is in System32 (on PATH) with
 * current drivers, but older ones put it under Program Files\NVIDIA Corporation\NVSMI; the Vulkan
 * SDK names its tool vulkaninfoSDK.exe. Names without .exe are found: Windows' spawn tries it.
 */
export function toolNames(tool: "nvidia-smi" | "vulkaninfo", platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string[] {
  if (platform !== "win32") return [tool];
  if (tool === "vulkaninfo") return ["vulkaninfo", "vulkaninfoSDK"];
  const programFiles = env.ProgramFiles ?? env.PROGRAMFILES ?? "C:\\Program Files";
  return ["nvidia-smi", `${programFiles}\\NVIDIA Corporation\\NVSMI\\nvidia-smi.exe`];
}

function firstLine(text: unknown): string {
  const line = typeof text === "string" ? text.trim().split("\n")[0] : undefined;
  return line === undefined || line === "" ? "no output" : line.slice(0, 200);
}
