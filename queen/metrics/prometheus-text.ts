// Writes metric families in Prometheus's text exposition format (version 0.0.4), which every
// Prometheus-compatible scraper reads: a `# HELP` and a `# TYPE` line per family, then one line
// per sample; a histogram is its cumulative `_bucket{le="…"}` lines ending at `le="+Inf"`, then
// `_sum` and `_count`. routes/metrics.ts serves it. No library: none that runs in workerd is
// installed, and the format is small.

/** The Content-Type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface HistogramSeries {
  labels: Labels;
  /** Upper bounds, ascending, without +Inf. */
  bounds: readonly number[];
  /** Observations at or under each bound (NOT cumulative), one per bound, then one for over the last. */
  counts: readonly number[];
  sum: number;
}

export type MetricFamily =
  | { name: string; help: string; type: "counter" | "gauge"; samples: readonly Sample[] }
  | { name: string; help: string; type: "histogram"; series: readonly HistogramSeries[] };

export function formatPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    if (family.type === "histogram") for (const series of family.series) lines.push(...histogramLines(family.name, series));
    else for (const sample of family.samples) lines.push(sampleLine(family.name, sample.labels, sample.value));
  }
  return `${lines.join("\n")}\n`;
}

function histogramLines(name: string, series: HistogramSeries): string[] {
  const lines: string[] = [];
  let cumulative = 0;
  series.bounds.forEach((bound, index) => {
    cumulative += series.counts[index] ?? 0;
    lines.push(sampleLine(`${name}_bucket`, { ...series.labels, le: formatValue(bound) }, cumulative));
  });
  cumulative += series.counts[series.bounds.length] ?? 0;
  lines.push(sampleLine(`${name}_bucket`, { ...series.labels, le: "+Inf" }, cumulative));
  lines.push(sampleLine(`${name}_sum`, series.labels, series.sum));
  lines.push(sampleLine(`${name}_count`, series.labels, cumulative));
  return lines;
}

function sampleLine(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([label, labelValue]) => `${label}="${escapeLabelValue(labelValue)}"`);
  return `${name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${formatValue(value)}`;
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** HELP text escapes backslash and line feed (quotes stay as they are). */
function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}
