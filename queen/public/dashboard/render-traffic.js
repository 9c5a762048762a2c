// @ts-check
// The traffic card: request rate and time to first token as figures for the last minute, and as
// two charts of the last minutes, one bar per time bucket.
import { el, row } from "./dom.js";
import { formatMs } from "./format.js";

/** @typedef {import("../../../shared/dashboard/dashboard-snapshot.js").DashboardSnapshot} DashboardSnapshot */

/**
 * @param {DashboardSnapshot["traffic"]} traffic
 * @param {number} queued
 */
export function trafficCard(traffic, queued) {
  const { buckets, bucket_seconds: bucketSeconds } = traffic;
  const lastMinute = buckets.slice(-Math.max(1, Math.round(60 / bucketSeconds)));
  const requests = sum(lastMinute.map((bucket) => bucket.requests));
  const errors = sum(lastMinute.map((bucket) => bucket.errors));
  const timed = lastMinute.filter((bucket) => bucket.ttft_ms !== null);
  const ttft = timed.length === 0 ? "—" : formatMs(sum(timed.map((bucket) => bucket.ttft_ms ?? 0)) / timed.length);
  const minutes = Math.round((buckets.length * bucketSeconds) / 60);
  return el(
    "article",
    { class: "card" },
    row("requests, last minute", `${requests} (${errors} errors)`),
    row("time to first token, last minute", ttft),
    row("waiting in the queue", String(queued)),
    el("p", { class: "legend" }, `requests per ${bucketSeconds} s, last ${minutes} minutes`),
    bars("requests per bucket", buckets.map((bucket) => bucket.requests), "requests"),
    el("p", { class: "legend" }, `time to first token per ${bucketSeconds} s (mean), last ${minutes} minutes`),
    bars("time to first token per bucket", buckets.map((bucket) => bucket.ttft_ms), "ttft"),
  );
}

/**
 * Bars of one figure per bucket, scaled to the largest; built from plain elements (no SVG), so the
 * page holds no URL at all, not even a namespace.
 * @param {string} label
 * @param {Array<number | null>} values
 * @param {string} className
 */
function bars(label, values, className) {
  const largest = Math.max(1, ...values.map((value) => value ?? 0));
  return el(
    "div",
    { class: `chart ${className}`, role: "img", "aria-label": label },
    ...values.map((value) => {
      const column = el("span", {});
      column.style.height = `${((value ?? 0) / largest) * 100}%`;
      return column;
    }),
  );
}

/** @param {number[]} values */
function sum(values) {
  return values.reduce((total, value) => total + value, 0);
}
