// How a build's output becomes narration: Ninja's and Make's progress as percentages, the configure
// lines worth reading, linking, and the last lines kept for a failure's message.
import { describe, expect, it } from "vitest";
import { BuildOutput, compileProgress, TAIL_LINES } from "./build-output.js";

function reader() {
  const said: Array<[string, string]> = [];
  return { said, output: new BuildOutput((action, message) => said.push([action, message])) };
}

describe("build output", () => {
  it("reads Ninja's and Make's progress lines as percentages", () => {
    expect(compileProgress("[12/300] Building CXX object ggml/src/CMakeFiles/ggml-base.dir/ggml.c.o")).toMatchObject({ percent: 4, counts: "12/300" });
    expect(compileProgress("[ 45%] Building C object ggml/src/CMakeFiles/ggml-cpu.dir/ggml-cpu.c.o")).toMatchObject({ percent: 45 });
    expect(compileProgress("[100%] Built target llama-addon")).toMatchObject({ percent: 100 });
    expect(compileProgress("/src/ggml.c:12:1: warning: unused variable [-Wunused-variable]")).toBeUndefined();
  });

  it("narrates the compile once per ten percent, with Ninja's counts, and each link", () => {
    const { said, output } = reader();
    for (let done = 1; done <= 200; done++) output.line("compile", `[${done}/200] Building CXX object src/CMakeFiles/llama.dir/file${done}.cpp.o`);
    output.line("compile", "[200/200] Linking CXX shared module Release/llama-addon.node");
    const percents = said.filter(([action]) => action === "compile").map(([, message]) => message);
    expect(percents).toHaveLength(11);
    expect(percents[0]).toBe("compiling llama.cpp: 0% (1/200)");
    expect(percents[1]).toBe("compiling llama.cpp: 10% (20/200)");
    expect(percents.at(-1)).toBe("compiling llama.cpp: 100% (200/200)");
    expect(said.filter(([action]) => action === "link")).toEqual([["link", "linking Release/llama-addon.node"]]);
  });

  it("narrates Make's percentages without counts", () => {
    const { said, output } = reader();
    output.line("compile", "[  3%] Building C object ggml/src/ggml.c.o");
    output.line("compile", "[ 27%] Linking CXX shared library ../bin/libggml-base.so");
    expect(said).toEqual([
      ["compile", "compiling llama.cpp: 3%"],
      ["compile", "compiling llama.cpp: 27%"],
      ["link", "linking ../bin/libggml-base.so"],
    ]);
  });

  it("tells from configure only what it found and that it is done", () => {
    const { said, output } = reader();
    for (const line of [
      "-- The C compiler identification is GNU 12.2.0",
      "-- Detecting C compiler ABI info",
      "-- Check for working C compiler: /usr/bin/cc - skipped",
      "-- Found CUDAToolkit: /usr/local/cuda/include (found version \"13.0.88\")",
      "-- Configuring done",
      "-- Generating done",
      "-- Build files have been written to: /tmp/build",
    ]) output.line("configure", line);
    expect(said.map(([action, message]) => `${action}: ${message}`)).toEqual([
      "configure: The C compiler identification is GNU 12.2.0",
      'configure: Found CUDAToolkit: /usr/local/cuda/include (found version "13.0.88")',
      "configure: Configuring done",
      "configure: Generating done",
    ]);
  });

  it("keeps the last lines of output, without colours or blank lines, for a failed build's message", () => {
    const { output } = reader();
    for (let index = 0; index < 40; index++) output.line("compile", `line ${index}`);
    output.line("compile", "   ");
    output.line("compile", "\x1b[31merror:\x1b[0m 'foo' was not declared in this scope");
    const tail = output.tail();
    expect(tail).toHaveLength(TAIL_LINES);
    expect(tail.at(-1)).toBe("error: 'foo' was not declared in this scope");
    expect(tail[0]).toBe(`line ${40 - TAIL_LINES + 1}`);
  });
});
