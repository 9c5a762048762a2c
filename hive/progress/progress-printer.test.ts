import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration } from "../../shared/progress-format.js";
import { ProgressPrinter } from "./progress-printer.js";

const MIB = 1024 * 1024;
const TOTAL = 27 * MIB;

/** A fake stdout that keeps what was written, and a clock the test moves by hand. */
function setup(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  let now = 1_000;
  const printer = new ProgressPrinter({ write: (text: string) => writes.push(text), isTTY, columns }, () => now);
  return {
    printer,
    writes,
    text: () => writes.join(""),
    at: (ms: number) => {
      now = 1_000 + ms;
    },
  };
}

describe("ProgressPrinter on a terminal", () => {
  it("draws one bar in place, with percentage, sizes, rate and time left", () => {
    const { printer, writes } = setup(true);
    printer.progress("job_abc", "model_download", 0, TOTAL, null);
    expect(writes).toEqual(["\rjob_abc model_download [----------] 0% 0.0/27.0 MiB\x1b[K"]);
  });

  it("redraws at most ten times a second, always with the latest numbers", () => {
    const { printer, writes, at } = setup(true);
    printer.progress("job_abc", "model_download", 0, TOTAL, null);
    at(50);
    printer.progress("job_abc", "model_download", 5 * MIB, TOTAL, 5.1 * MIB);
    at(99);
    printer.progress("job_abc", "model_download", 10 * MIB, TOTAL, 5.1 * MIB);
    expect(writes).toHaveLength(1);
    at(100);
    printer.progress("job_abc", "model_download", 0.45 * TOTAL, TOTAL, 5.1 * MIB);
    expect(writes).toHaveLength(2);
    expect(writes[1]).toBe("\rjob_abc model_download [####------] 45% 12.2/27.0 MiB 5.1 MiB/s ETA 3s\x1b[K");
  });

  it("ends a live bar with a newline before a log line, and starts a fresh bar after it", () => {
    const { printer, text, at } = setup(true);
    printer.progress("job_abc", "model_download", MIB, TOTAL, null);
    printer.log("queen welcomed hive 'pc-1'");
    at(10);
    printer.progress("job_abc", "model_download", 2 * MIB, TOTAL, null);
    expect(text()).toBe(
      "\rjob_abc model_download [----------] 3% 1.0/27.0 MiB\x1b[K\n" +
        "queen welcomed hive 'pc-1'\n" +
        "\rjob_abc model_download [----------] 7% 2.0/27.0 MiB\x1b[K",
    );
  });

  it("leaves the job's final state on a line of its own when it ends, even if its last update was not drawn", () => {
    const { printer, writes, at } = setup(true);
    printer.progress("job_abc", "model_download", 0, TOTAL, null);
    at(40);
    printer.progress("job_abc", "model_download", TOTAL, TOTAL, 9 * MIB);
    at(3_200);
    printer.end("job_abc");
    expect(writes.at(-1)).toBe("\rjob_abc model_download [##########] 100% 27.0/27.0 MiB in 4s\x1b[K\n");
    printer.log("next");
    expect(writes.at(-1)).toBe("next\n");
  });

  it("finishes another job's live bar before printing a job's final line", () => {
    const { printer, text } = setup(true);
    printer.progress("job_a", "model_download", MIB, 2 * MIB, null);
    printer.progress("job_b", "worker_install", 512, null, null);
    printer.end("job_a");
    expect(text()).toBe(
      "\rjob_a model_download [#####-----] 50% 1.0/2.0 MiB\x1b[K" +
        "\rjob_b worker_install 512 B\x1b[K" +
        "\njob_a model_download [#####-----] 50% 1.0/2.0 MiB in 0s\n",
    );
  });

  it("cuts the bar to the terminal's width so it never wraps", () => {
    const { printer, writes } = setup(true, 20);
    printer.progress("job_abc", "model_download", 0, TOTAL, null);
    expect(writes).toEqual(["\rjob_abc model_downl\x1b[K"]);
  });

  it("keeps a newline in a job id or label from breaking the line", () => {
    const { printer, writes } = setup(true);
    printer.progress("job\nx", "a\rb", 1, null, null);
    expect(writes).toEqual(["\rjob?x a?b 1 B\x1b[K"]);
  });
});

describe("ProgressPrinter in a log", () => {
  it("prints a plain line at the start, at each tenth, every five seconds, and at the end", () => {
    const { printer, writes, at } = setup(false);
    printer.progress("job_abc", "model_download", 0, 100 * MIB, null);
    at(1_000);
    printer.progress("job_abc", "model_download", 5 * MIB, 100 * MIB, 5 * MIB);
    at(1_500);
    printer.progress("job_abc", "model_download", 10 * MIB, 100 * MIB, 5 * MIB); // crosses 10%
    at(2_000);
    printer.progress("job_abc", "model_download", 12 * MIB, 100 * MIB, 1 * MIB);
    at(6_500);
    printer.progress("job_abc", "model_download", 13 * MIB, 100 * MIB, 0.25 * MIB); // 5 s after the last line
    at(7_000);
    printer.end("job_abc");
    expect(writes).toEqual([
      "job_abc model_download 0% 0.0/100.0 MiB\n",
      "job_abc model_download 10% 10.0/100.0 MiB 5.0 MiB/s ETA 18s\n",
      "job_abc model_download 13% 13.0/100.0 MiB 256.0 KiB/s ETA 5m48s\n",
      "job_abc model_download 13% 13.0/100.0 MiB in 7s\n",
    ]);
  });

  it("prints every five seconds when the size is unknown", () => {
    const { printer, writes, at } = setup(false);
    for (let second = 0; second <= 10; second += 1) {
      at(second * 1_000);
      printer.progress("job_abc", "model_download", second * 2 * MIB, null, 2 * MIB);
    }
    expect(writes).toEqual([
      "job_abc model_download 0 B 2.0 MiB/s\n",
      "job_abc model_download 10.0 MiB 2.0 MiB/s\n",
      "job_abc model_download 20.0 MiB 2.0 MiB/s\n",
    ]);
  });

  it("prints log lines as they come, without escape codes, and ignores the end of a job it never saw", () => {
    const { printer, writes } = setup(false);
    printer.log("hello");
    printer.end("job_unknown");
    expect(writes).toEqual(["hello\n"]);
  });
});

describe("progress format", () => {
  it("writes sizes in binary units and durations in s, m and h", () => {
    expect([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(5 * 1024 ** 3)]).toEqual(["0 B", "1023 B", "1.5 KiB", "5.0 GiB"]);
    expect([formatDuration(0), formatDuration(2_100), formatDuration(65_000), formatDuration(7_380_000)]).toEqual(["0s", "3s", "1m05s", "2h03m"]);
  });
});
