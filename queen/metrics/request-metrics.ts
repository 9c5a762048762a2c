// The queen's request counters, aggregated for the whole queen in the one Metrics Durable Object
// (metrics-store.ts): requests by model and status, tokens by model, and time-to-first-token and
// total-latency histograms by model. Isolates send samples in batches (metrics-reporter.ts); this
// file adds them up and turns them into metric families (prometheus-text.ts).

import type { HistogramSeries, MetricFamily } from "./prometheus-text.js";

/** What one inference request adds to the counters. */
export interface RequestSample {
  /** The model asked for, after alias resolution. */
  model: string;
  /** The HTTP status of the answer. */
  status: number;
  promptTokens: number;
  completionTokens: number;
  /** From arrival to the first byte of the answer's body, ms; null when it had no body (a refusal). */
  ttftMs: number | null;
  /** From arrival to the end of the answer's body, ms. */
  totalMs: number;
  /**
   * A worker was placed for it: its model exists. Only such a request gives a model a label of its
   * own; others count under a label their model already has, or `other`.
   */
  served: boolean;
}

/**
 * Time to first token, seconds: it includes queueing and a cold model's load, so the buckets
 * reach a minute; most warm answers fall in the first few.
 */
export const TTFT_BOUNDS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;
/** Whole request, seconds: up to REQUEST_TIMEOUT_SECONDS's default of 300 s. */
export const TOTAL_BOUNDS_S = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;

/**
 * Distinct model labels kept; later ones count as `other`. A client can send any model name (and
 * gets a 404 for it): without a bound, each would become a new series in every scrape. Only a
 * served request claims a label (RequestSample.served), so made-up names cannot use them up and
 * leave the real models under `other`.
 */
export const MAX_MODEL_LABELS = 100;
export const OTHER_MODEL = "other";
/** The label of a request refused before it named a valid model (a 400, a rate limit): always its own. */
export const NO_MODEL = "(none)";

interface Histogram {
  counts: number[];
  sum: number;
}

/** The counters as stored by the Metrics object. */
export interface RequestMetricsState {
  requests: Array<[string, number, number]>;
  tokens: Array<[string, number, number]>;
  ttft: Array<[string, Histogram]>;
  total: Array<[string, Histogram]>;
}

export class RequestMetrics {
  /** By `model\u0000status`. */
  private readonly requests = new Map<string, number>();
  /** By model: [prompt, completion]. */
  private readonly tokens = new Map<string, [number, number]>();
  private readonly ttft = new Map<string, Histogram>();
  private readonly total = new Map<string, Histogram>();

  constructor(state?: RequestMetricsState) {
    for (const [model, status, count] of state?.requests ?? []) this.requests.set(requestKey(model, status), count);
    for (const [model, prompt, completion] of state?.tokens ?? []) this.tokens.set(model, [prompt, completion]);
    for (const [model, histogram] of state?.ttft ?? []) this.ttft.set(model, histogram);
    for (const [model, histogram] of state?.total ?? []) this.total.set(model, histogram);
  }

  add(samples: readonly RequestSample[]): void {
    for (const sample of samples) {
      const model = this.modelLabel(sample.model, sample.served);
      const key = requestKey(model, sample.status);
      this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
      const tokens = this.tokens.get(model) ?? [0, 0];
      this.tokens.set(model, [tokens[0] + sample.promptTokens, tokens[1] + sample.completionTokens]);
      if (sample.ttftMs !== null) observe(this.ttft, model, TTFT_BOUNDS_S, sample.ttftMs / 1000);
      observe(this.total, model, TOTAL_BOUNDS_S, sample.totalMs / 1000);
    }
  }

  state(): RequestMetricsState {
    return {
      requests: [...this.requests].map(([key, count]) => {
        const [model, status] = splitRequestKey(key);
        return [model, status, count];
      }),
      tokens: [...this.tokens].map(([model, [prompt, completion]]) => [model, prompt, completion]),
      ttft: [...this.ttft],
      total: [...this.total],
    };
  }

  families(): MetricFamily[] {
    const tokens = [...this.tokens];
    return [
      {
        name: "rbee_requests_total",
        help: "Inference requests answered, by model asked for (after aliases) and HTTP status.",
        type: "counter",
        samples: [...this.requests].map(([key, value]) => {
          const [model, status] = splitRequestKey(key);
          return { labels: { model, status: String(status) }, value };
        }),
      },
      { name: "rbee_prompt_tokens_total", help: "Prompt tokens of answered requests, as the workers reported them.", type: "counter", samples: tokens.map(([model, [prompt]]) => ({ labels: { model }, value: prompt })) },
      { name: "rbee_completion_tokens_total", help: "Completion tokens of answered requests, as the workers reported them.", type: "counter", samples: tokens.map(([model, [, completion]]) => ({ labels: { model }, value: completion })) },
      { name: "rbee_time_to_first_token_seconds", help: "From a request's arrival at the queen to the first byte of its answer (queueing and model loading included).", type: "histogram", series: histogramSeries(this.ttft, TTFT_BOUNDS_S) },
      { name: "rbee_request_duration_seconds", help: "From a request's arrival at the queen to the end of its answer.", type: "histogram", series: histogramSeries(this.total, TOTAL_BOUNDS_S) },
    ];
  }

  private modelLabel(model: string, served: boolean): string {
    if (model === NO_MODEL || this.tokens.has(model) || (served && this.tokens.size < MAX_MODEL_LABELS)) return model;
    return OTHER_MODEL;
  }
}

function requestKey(model: string, status: number): string {
  return `${model}\u0000${status}`;
}

function splitRequestKey(key: string): [string, number] {
  const at = key.lastIndexOf("\u0000");
  return [key.slice(0, at), Number(key.slice(at + 1))];
}

function observe(histograms: Map<string, Histogram>, model: string, bounds: readonly number[], seconds: number): void {
  const histogram = histograms.get(model) ?? { counts: Array<number>(bounds.length + 1).fill(0), sum: 0 };
  const index = bounds.findIndex((bound) => seconds <= bound);
  const slot = index === -1 ? bounds.length : index;
  histogram.counts[slot] = (histogram.counts[slot] ?? 0) + 1;
  histogram.sum += seconds;
  histograms.set(model, histogram);
}

function histogramSeries(histograms: Map<string, Histogram>, bounds: readonly number[]): HistogramSeries[] {
  return [...histograms].map(([model, histogram]) => ({ labels: { model }, bounds, counts: histogram.counts, sum: histogram.sum }));
}
