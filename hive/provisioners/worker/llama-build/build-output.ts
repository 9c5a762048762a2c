// Turns a llama.cpp build's output (cmake-js, CMake, then Ninja or Make) into job narration a person
// can follow: the configure steps worth knowing (compilers and toolkits found), the compile's
// percentage every PERCENT_STEP (Ninja's `[12/345]` and Make's `[ 45%]`), linking, and, when the
// build fails, its last lines. local-llama-build.ts feeds it every line of every step.

/** Narrate the compile's progress each time it passes another multiple of this, in percent. */
export const PERCENT_STEP = 10;
/** Lines of output kept for the message of a failed build. */
export const TAIL_LINES = 15;

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
/** Ninja: `[12/345] Building CXX object …`. */
const NINJA_PROGRESS = /^\[(\d+)\/(\d+)\]\s*(.*)$/;
/** Make (CMake's Makefiles): `[ 45%] Building CXX object …`. */
const MAKE_PROGRESS = /^\[\s*(\d+)%\]\s*(.*)$/;
/** CMake's configure lines worth a person's attention: what it found, and that it is done. */
const CONFIGURE_NOTABLE = /^-- (The (C|CXX|CUDA) compiler identification is .*|Found (CUDAToolkit|Vulkan|OpenMP|Threads).*|CUDA Toolkit found.*|Using CUDA architectures.*|Configuring done.*|Generating done.*)$/;
const LINKING = /Linking \w+ (shared|static) (library|module) (.*)$/;

export type Narrate = (action: string, message: string) => void;

export class BuildOutput {
  private readonly tailLines: string[] = [];
  private lastPercentStep = -1;

  constructor(private readonly narrate: Narrate) {}

  /** One line of a step's output (stdout or stderr). */
  line(phase: "source" | "configure" | "compile", raw: string): void {
    const text = raw.replace(ANSI, "").trimEnd();
    if (text.trim() === "") return;
    this.tailLines.push(text);
    if (this.tailLines.length > TAIL_LINES) this.tailLines.shift();
    if (phase === "configure") {
      const notable = CONFIGURE_NOTABLE.exec(text.trim());
      if (notable?.[1]) this.narrate("configure", notable[1]);
      return;
    }
    if (phase !== "compile") return;
    const progress = compileProgress(text);
    if (!progress) return;
    const linking = LINKING.exec(progress.what)?.[3];
    const step = Math.floor(progress.percent / PERCENT_STEP);
    if (step > this.lastPercentStep) {
      this.lastPercentStep = step;
      this.narrate("compile", `compiling llama.cpp: ${progress.percent}%${progress.counts ? ` (${progress.counts})` : ""}`);
    }
    if (linking) this.narrate("link", `linking ${linking.trim()}`);
  }

  /** The last lines of output, oldest first, for a failed build's message. */
  tail(): string[] {
    return [...this.tailLines];
  }
}

/** The percentage a compile line shows, with Ninja's `done/total` when it gives them. */
export function compileProgress(line: string): { percent: number; counts?: string; what: string } | undefined {
  const ninja = NINJA_PROGRESS.exec(line);
  if (ninja) {
    const done = Number(ninja[1]);
    const total = Number(ninja[2]);
    if (total === 0) return undefined;
    return { percent: Math.min(100, Math.floor((done / total) * 100)), counts: `${done}/${total}`, what: ninja[3] ?? "" };
  }
  const make = MAKE_PROGRESS.exec(line);
  if (make) return { percent: Math.min(100, Number(make[1])), what: make[2] ?? "" };
  return undefined;
}
