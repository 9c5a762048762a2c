// @ts-check
// A tiny element builder for the dashboard's render modules: text children are set as text,
// never parsed as HTML, so names a hive or worker reports cannot inject markup.

/**
 * @param {string} tag
 * @param {Record<string, string>} [attributes]
 * @param {Array<Node | string>} children
 * @returns {HTMLElement}
 */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/**
 * A labelled figure on one line: `label … value`.
 * @param {string} label
 * @param {string} value
 */
export function row(label, value) {
  return el("div", { class: "row" }, el("span", { class: "muted" }, label), el("span", {}, value));
}

/**
 * A bar filled to `fraction` (0..1), labelled for screen readers.
 * @param {number} fraction
 * @param {string} label
 */
export function bar(fraction, label) {
  const fill = el("span", {});
  fill.style.width = `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
  return el("div", { class: "bar", role: "meter", "aria-label": label, "aria-valuemin": "0", "aria-valuemax": "1", "aria-valuenow": String(fraction) }, fill);
}

/**
 * A titled section of cards: `show` replaces its cards, or says `emptyText` when there are none.
 * @param {string} id the id of the element holding the cards
 * @param {string} title
 * @param {string} emptyText
 */
export function section(id, title, emptyText) {
  const cards = el("div", { id, class: "grid" });
  return {
    element: el("section", {}, el("h2", {}, title), cards),
    /** @param {HTMLElement[]} shown */
    show(shown) {
      cards.replaceChildren(...(shown.length > 0 ? shown : [el("p", { class: "empty" }, emptyText)]));
    },
  };
}
