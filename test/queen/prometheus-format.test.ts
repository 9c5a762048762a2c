import { describe, expect, it } from "vitest";
import { formatPrometheus } from "../../queen/metrics/prometheus-text.js";
import { RequestMetrics, TTFT_BOUNDS_S } from "../../queen/metrics/request-metrics.js";
import { parsePrometheus } from "./prometheus-text.js";

describe("the Prometheus text format", () => {
  it("writes HELP and TYPE before the samples, and escapes label values and help text", () => {
    const text = formatPrometheus([
      { name: "x_total", help: 'a "help" with \\ and\nnewline', type: "counter", samples: [{ labels: { model: 'q"uo\\te\nd' }, value: 3 }] },
    ]);
    expect(text).toBe('# HELP x_total a "help" with \\\\ and\\nnewline\n# TYPE x_total counter\nx_total{model="q\\"uo\\\\te\\nd"} 3\n');
    expect(parsePrometheus(text).get('x_total{model="q\\"uo\\\\te\\nd"}')).toBe(3);
  });

  it("writes a histogram as cumulative buckets ending at +Inf, then _sum and _count", () => {
    const text = formatPrometheus([{ name: "h_seconds", help: "h", type: "histogram", series: [{ labels: { model: "m" }, bounds: [0.1, 1], counts: [2, 1, 1], sum: 7.5 }] }]);
    expect(text.split("\n").slice(2, -1)).toEqual([
      'h_seconds_bucket{model="m",le="0.1"} 2',
      'h_seconds_bucket{model="m",le="1"} 3',
      'h_seconds_bucket{model="m",le="+Inf"} 4',
      'h_seconds_sum{model="m"} 7.5',
      'h_seconds_count{model="m"} 4',
    ]);
    parsePrometheus(text);
  });

  it("puts each sample in the first bucket that holds it, and counts an answer with no body in the total only", () => {
    const metrics = new RequestMetrics();
    metrics.add([
      { model: "m", status: 200, promptTokens: 3, completionTokens: 4, ttftMs: 40, totalMs: 900, served: true },
      { model: "m", status: 200, promptTokens: 1, completionTokens: 1, ttftMs: 100, totalMs: 90_000, served: true },
      { model: "m", status: 429, promptTokens: 0, completionTokens: 0, ttftMs: null, totalMs: 2, served: true },
    ]);
    const samples = parsePrometheus(formatPrometheus(new RequestMetrics(metrics.state()).families()));
    expect(samples.get('rbee_requests_total{model="m",status="200"}')).toBe(2);
    expect(samples.get('rbee_requests_total{model="m",status="429"}')).toBe(1);
    expect(samples.get('rbee_prompt_tokens_total{model="m"}')).toBe(4);
    expect(samples.get('rbee_completion_tokens_total{model="m"}')).toBe(5);
    expect(samples.get(`rbee_time_to_first_token_seconds_bucket{model="m",le="${TTFT_BOUNDS_S[0]}"}`)).toBe(1);
    expect(samples.get('rbee_time_to_first_token_seconds_bucket{model="m",le="0.1"}')).toBe(2);
    expect(samples.get('rbee_time_to_first_token_seconds_count{model="m"}')).toBe(2);
    expect(samples.get('rbee_request_duration_seconds_count{model="m"}')).toBe(3);
    expect(samples.get('rbee_request_duration_seconds_bucket{model="m",le="60"}')).toBe(2);
  });

  it("counts models past the label bound as `other`, so clients cannot grow the series without end", () => {
    const metrics = new RequestMetrics();
    metrics.add(Array.from({ length: 150 }, (_, index) => ({ model: `m${index}`, status: 200, promptTokens: 0, completionTokens: 0, ttftMs: null, totalMs: 1, served: true })));
    const samples = parsePrometheus(formatPrometheus(metrics.families()));
    expect(samples.get('rbee_requests_total{model="other",status="200"}')).toBe(50);
    expect([...samples.keys()].filter((series) => series.startsWith("rbee_requests_total"))).toHaveLength(101);
  });

  it("gives a label only to a model a request was served by: made-up names cannot use the labels up", () => {
    const metrics = new RequestMetrics();
    const sample = { promptTokens: 0, completionTokens: 0, ttftMs: null, totalMs: 1 };
    metrics.add(Array.from({ length: 150 }, (_, index) => ({ ...sample, model: `junk-${index}`, status: 404, served: false })));
    metrics.add([
      { ...sample, model: "real", status: 200, served: true },
      // Refused before a worker was placed, once the model has its label: counted under it.
      { ...sample, model: "real", status: 503, served: false },
    ]);
    const samples = parsePrometheus(formatPrometheus(metrics.families()));
    expect(samples.get('rbee_requests_total{model="other",status="404"}')).toBe(150);
    expect(samples.get('rbee_requests_total{model="real",status="200"}')).toBe(1);
    expect(samples.get('rbee_requests_total{model="real",status="503"}')).toBe(1);
  });
});
