// Reads other processes' command lines on each platform the hive runs on, for
// ./worker-process-check.ts (which vouches for a PID before the hive signals it) and
// ./has-exited.ts. Linux reads /proc; macOS has no /proc and asks `ps`; Windows has neither and
// asks the process list through PowerShell's CIM (tasklist shows no command lines, and the worker
// id the check needs is one of the arguments). The platform and the tool runner are injectable so
// each platform's path is unit-tested on Linux.
import { readdir, readFile } from "node:fs/promises";
import { execa } from "execa";
import { z } from "zod";

export interface ToolResult {
  exitCode: number | undefined;
  stdout: string;
}

export interface ProcessTableContext {
  /** Default `process.platform`. */
  platform?: NodeJS.Platform;
  /** Runs `ps` or PowerShell; default execa, never rejecting. */
  run?: (file: string, args: readonly string[]) => Promise<ToolResult>;
}

export interface ProcessCommandLine {
  pid: number;
  args: string[];
}

async function runTool(file: string, args: readonly string[]): Promise<ToolResult> {
  const result = await execa(file, args, { reject: false, stdin: "ignore", windowsHide: true, maxBuffer: 64 * 1024 * 1024 });
  return { exitCode: result.exitCode, stdout: typeof result.stdout === "string" ? result.stdout : "" };
}

/** The process's argv, or undefined when no process has that pid. */
export async function readCommandLine(pid: number, context: ProcessTableContext = {}): Promise<string[] | undefined> {
  const run = context.run ?? runTool;
  switch (context.platform ?? process.platform) {
    case "linux":
      return linuxCommandLine(pid);
    case "win32":
      return parseWindowsProcesses((await run(POWERSHELL, windowsQuery(pid))).stdout)[0]?.args;
    default: {
      // macOS and other Unixes: no /proc.
      const result = await run("ps", ["-ww", "-o", "command=", "-p", String(pid)]);
      if (result.exitCode !== 0 || result.stdout.trim() === "") return undefined;
      return splitPsCommand(result.stdout);
    }
  }
}

/** Every process's pid and argv (zombies, with an empty argv, left out). */
export async function listCommandLines(context: ProcessTableContext = {}): Promise<ProcessCommandLine[]> {
  const run = context.run ?? runTool;
  switch (context.platform ?? process.platform) {
    case "linux": {
      const pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name)).map(Number);
      const lines: ProcessCommandLine[] = [];
      for (const pid of pids) {
        const args = await linuxCommandLine(pid);
        if (args && args.length > 0) lines.push({ pid, args });
      }
      return lines;
    }
    case "win32":
      return parseWindowsProcesses((await run(POWERSHELL, windowsQuery(undefined))).stdout);
    default:
      // One ps for every process, not one per pid: a Mac runs hundreds of them.
      return parsePsList((await run("ps", ["-A", "-ww", "-o", "pid=,command="])).stdout);
  }
}

/** Whether `ps` calls the process a zombie (state Z): gone, its parent yet to reap it. Unixes without /proc. */
export async function isZombieByPs(pid: number, context: ProcessTableContext = {}): Promise<boolean> {
  const result = await (context.run ?? runTool)("ps", ["-o", "stat=", "-p", String(pid)]);
  // No such process (exit 1, nothing printed) is as good as exited.
  return result.stdout.trim() === "" || result.stdout.trim().startsWith("Z");
}

async function linuxCommandLine(pid: number): Promise<string[] | undefined> {
  const raw = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => undefined);
  return raw?.split("\0").filter((arg) => arg.length > 0);
}

/** `pid command…` lines of `ps -A -o pid=,command=`. */
export function parsePsList(stdout: string): ProcessCommandLine[] {
  return stdout.split("\n").flatMap((line) => {
    const match = /^\s*(\d+)\s+(.*)$/.exec(line);
    return match?.[1] && match[2] ? [{ pid: Number(match[1]), args: splitPsCommand(match[2]) }] : [];
  });
}

/**
 * `ps` joins argv with spaces; worker paths with spaces would split, which only makes the check
 * refuse, never wrongly accept.
 */
function splitPsCommand(command: string): string[] {
  return command.trim().split(/\s+/);
}

const POWERSHELL = "powershell.exe";

/** PowerShell 5.1 (every Windows 10/11) prints the processes as JSON: one object, or an array. */
function windowsQuery(pid: number | undefined): string[] {
  const filter = pid === undefined ? "" : ` -Filter "ProcessId=${Math.trunc(pid)}"`;
  return ["-NoProfile", "-NonInteractive", "-Command", `Get-CimInstance Win32_Process${filter} | Select-Object ProcessId,CommandLine | ConvertTo-Json -Compress`];
}

const WindowsProcess = z.object({ ProcessId: z.number().int(), CommandLine: z.string().nullable().optional() });

/** The processes in PowerShell's JSON; those whose command line it may not read (other users', system) are left out. */
export function parseWindowsProcesses(stdout: string): ProcessCommandLine[] {
  if (stdout.trim() === "") return [];
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    return [];
  }
  const parsed = z.array(WindowsProcess).safeParse(Array.isArray(data) ? data : [data]);
  if (!parsed.success) return [];
  return parsed.data.flatMap(({ ProcessId, CommandLine }) => {
    const args = CommandLine ? splitWindowsCommandLine(CommandLine) : [];
    return args.length > 0 ? [{ pid: ProcessId, args }] : [];
  });
}

/**
 * argv from a Windows command line, by the rules of CommandLineToArgvW (what Node's own argv
 * follows): whitespace separates outside quotes; 2n backslashes before a quote are n backslashes
 * and the quote toggles quoting, 2n+1 are n and a literal quote; other backslashes are literal.
 */
export function splitWindowsCommandLine(commandLine: string): string[] {
  const args: string[] = [];
  let current = "";
  let inArg = false;
  let quoted = false;
  for (let i = 0; i < commandLine.length; i += 1) {
    const char = commandLine[i];
    if (char === "\\") {
      let count = 0;
      while (commandLine[i] === "\\") {
        count += 1;
        i += 1;
      }
      if (commandLine[i] === '"') {
        current += "\\".repeat(Math.floor(count / 2));
        if (count % 2 === 1) current += '"';
        else quoted = !quoted;
      } else {
        current += "\\".repeat(count);
        i -= 1;
      }
      inArg = true;
    } else if (char === '"') {
      quoted = !quoted;
      inArg = true;
    } else if ((char === " " || char === "\t") && !quoted) {
      if (inArg) args.push(current);
      current = "";
      inArg = false;
    } else {
      current += char;
      inArg = true;
    }
  }
  if (inArg) args.push(current);
  return args;
}
