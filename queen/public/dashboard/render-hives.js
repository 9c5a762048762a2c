// @ts-check
// A hive's card: online or offline, the machine, and memory bars (RAM and each GPU's VRAM).
import { bar, el, row } from "./dom.js";
import { formatBytes, formatTime } from "./format.js";

/** @typedef {import("../../../shared/dashboard/dashboard-snapshot.js").DashboardHive} DashboardHive */

/** @param {DashboardHive} hive */
export function hiveCard(hive) {
  const card = el(
    "article",
    { class: "card", "data-hive": hive.name },
    el(
      "h3",
      {},
      `${hive.name} `,
      el("span", { class: `badge ${hive.online ? "good" : "bad"}` }, hive.online ? "online" : "offline"),
      ...(hive.token_revoked ? [" ", el("span", { class: "badge bad" }, "token revoked")] : []),
    ),
  );
  const machine = hive.machine;
  if (!machine) {
    // Its machine is known from its hello; one seen before may have gone before saying it.
    card.append(el("p", { class: "muted" }, hive.last_seen_at ? "Its machine is not known yet." : "Has not connected yet."));
    if (hive.last_seen_at) card.append(row("last seen", formatTime(hive.last_seen_at)));
    return card;
  }
  card.append(row("machine", `${machine.os} ${machine.arch}, ${machine.cpu.cores} cores`));
  card.append(...memory("RAM", machine.ram_total_bytes, machine.ram_free_bytes));
  for (const gpu of machine.gpus) {
    const label = `GPU ${gpu.index} ${gpu.name} (${gpu.backend})`;
    if (gpu.vram_total_bytes === null) card.append(row(label, "memory not reported"));
    else card.append(...memory(label, gpu.vram_total_bytes, gpu.vram_free_bytes));
  }
  if (!hive.online && hive.last_seen_at) card.append(row("last seen", formatTime(hive.last_seen_at)));
  return card;
}

/**
 * @param {string} label
 * @param {number} totalBytes
 * @param {number | null} freeBytes
 */
function memory(label, totalBytes, freeBytes) {
  if (freeBytes === null || totalBytes === 0) return [row(label, `${formatBytes(totalBytes)} total`)];
  const used = totalBytes - freeBytes;
  return [row(label, `${formatBytes(used)} / ${formatBytes(totalBytes)} used`), bar(used / totalBytes, `${label} in use`)];
}
