// @ts-check
// A worker's card: model, state, slots busy of total, tokens per second, memory, load progress.
import { bar, el, row } from "./dom.js";
import { formatBytes, formatPercent } from "./format.js";

/** @typedef {import("../../../shared/dashboard/dashboard-snapshot.js").DashboardWorker} DashboardWorker */

/** @type {Record<string, string>} */
const STATE_TONE = { ready: "good", busy: "busy", loading: "busy", draining: "busy", failed: "bad", stopped: "bad" };

/** @param {DashboardWorker} worker */
export function workerCard(worker) {
  const card = el(
    "article",
    { class: "card", "data-worker": worker.id },
    el("h3", {}, `${worker.model} `, el("span", { class: `badge ${STATE_TONE[worker.state] ?? ""}` }, worker.state)),
    row("worker", worker.id),
    row("hive", `${worker.hive}${worker.device ? ` (${worker.device})` : ""}`),
    row("slots busy", `${worker.slots_busy} / ${worker.slots_total}`),
    bar(worker.slots_total === 0 ? 0 : worker.slots_busy / worker.slots_total, "slots busy"),
    row("tokens/s", worker.tokens_per_second.toFixed(1)),
    row("memory", `${formatBytes(worker.memory_rss_bytes)} RAM${worker.memory_vram_bytes === null ? "" : `, ${formatBytes(worker.memory_vram_bytes)} VRAM`}`),
  );
  if (worker.state === "loading" && worker.load_progress !== null) {
    card.append(row("loading", formatPercent(worker.load_progress)), bar(worker.load_progress, "model loaded"));
  }
  return card;
}
