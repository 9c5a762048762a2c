// @ts-check
// A model's card: its state as GET /v1/models reports it, where it is cached and where loaded.
import { el, row } from "./dom.js";

/** @typedef {import("../../../shared/dashboard/dashboard-snapshot.js").DashboardModel} DashboardModel */

/** @type {Record<string, string>} */
const STATE_TONE = { loaded: "good", loading: "busy", loadable: "", too_large: "bad", unavailable: "bad" };

/** @param {DashboardModel} model */
export function modelCard(model) {
  return el(
    "article",
    { class: "card", "data-model": model.id },
    el("h3", {}, `${model.id} `, el("span", { class: `badge ${STATE_TONE[model.state] ?? ""}` }, model.state.replace("_", " "))),
    row("cached on", model.cached_on.join(", ") || "—"),
    row("loaded on", model.loaded_on.join(", ") || "—"),
  );
}
