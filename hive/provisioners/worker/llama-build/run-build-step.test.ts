// A build step as a real process tree: a Node script standing in for cmake starts a child of its
// own (the "compiler") and runs until cancelled; a cancel must take down both.
import { describe, expect, it } from "vitest";
import { waitUntil } from "../../../../shared/wait-until.js";
import { hasExited } from "../../../processes/has-exited.js";
import { BuildStepFailed, runBuildStep, type StepCommand } from "./run-build-step.js";

/** Prints its own pid and its child's, then runs for a minute, like a long compile. */
const FAKE_CMAKE = `
const { spawn } = require("node:child_process");
const compiler = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
console.log("cmake " + process.pid);
console.log("compiler " + compiler.pid);
setTimeout(() => {}, 60000);
`;

function node(script: string): StepCommand {
  return { command: process.execPath, args: ["-e", script], cwd: process.cwd(), env: process.env };
}

describe("runBuildStep", () => {
  it("kills the whole process tree of a cancelled step, and rejects with the cancel's reason", async () => {
    const controller = new AbortController();
    const pids = new Map<string, number>();
    const running = runBuildStep(node(FAKE_CMAKE), controller.signal, (line) => {
      const [name, pid] = line.split(" ");
      if (name && pid) pids.set(name, Number(pid));
    });
    await waitUntil(() => pids.size === 2, 30_000, "the stand-in cmake and its compiler to start");
    const cmake = pids.get("cmake") ?? 0;
    const compiler = pids.get("compiler") ?? 0;
    expect(await hasExited(compiler)).toBe(false);

    const reason = new Error("cancelled by the test");
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
    await waitUntil(async () => (await hasExited(cmake)) && (await hasExited(compiler)), 10_000, "both processes to be gone");
  });

  it("rejects with the exit code of a step that fails, after handing over its output", async () => {
    const lines: string[] = [];
    const failing = runBuildStep(node('console.log("configuring"); console.error("CMake Error: no CMAKE_CXX_COMPILER could be found."); process.exit(3)'), new AbortController().signal, (line) => lines.push(line));
    await expect(failing).rejects.toMatchObject({ name: "BuildStepFailed", exitCode: 3 });
    expect(lines).toEqual(expect.arrayContaining(["configuring", "CMake Error: no CMAKE_CXX_COMPILER could be found."]));
  });

  it("resolves for a step that succeeds, and says why a command cannot start", async () => {
    await expect(runBuildStep(node("process.exit(0)"), new AbortController().signal, () => {})).resolves.toBeUndefined();
    const missing = runBuildStep({ command: "/nonexistent/cmake", args: [], cwd: process.cwd(), env: {} }, new AbortController().signal, () => {});
    await expect(missing).rejects.toBeInstanceOf(BuildStepFailed);
    await expect(missing).rejects.toThrow(/could not run \/nonexistent\/cmake/);
  });

  it("starts nothing for a step cancelled before it began", async () => {
    const controller = new AbortController();
    controller.abort(new Error("too late"));
    await expect(runBuildStep(node(FAKE_CMAKE), controller.signal, () => {})).rejects.toThrow("too late");
  });
});
