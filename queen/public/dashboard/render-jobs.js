// @ts-check
// An unfinished job's card (downloads, spawns, stops) with a progress bar where the job sends progress.
import { bar, el, row } from "./dom.js";
import { formatBytes, formatTime } from "./format.js";

/** @typedef {import("../../../shared/dashboard/dashboard-snapshot.js").DashboardJob} DashboardJob */

/** @param {DashboardJob} job */
export function jobCard(job) {
  const card = el(
    "article",
    { class: "card", "data-job": job.id },
    el("h3", {}, `${job.operation.replace("_", " ")} `, el("span", { class: "badge busy" }, job.status)),
    row("hive", job.hive),
    row("started", formatTime(job.created_at)),
  );
  if (job.subject) card.append(row("of", job.subject));
  const progress = job.progress;
  if (progress) {
    const rate = progress.bytes_per_second === null ? "" : ` at ${formatBytes(progress.bytes_per_second)}/s`;
    const total = progress.total === null ? "" : ` of ${formatBytes(progress.total)}`;
    card.append(row("progress", `${formatBytes(progress.bytes)}${total}${rate}`));
    if (progress.total) card.append(bar(progress.bytes / progress.total, "job progress"));
  }
  return card;
}
