// @ts-check
// How the dashboard writes figures for people: bytes in binary units, rates, durations.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** @param {number} bytes */
export function formatBytes(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${UNITS[unit]}`;
}

/** @param {number} milliseconds */
export function formatMs(milliseconds) {
  return milliseconds >= 1000 ? `${(milliseconds / 1000).toFixed(1)} s` : `${Math.round(milliseconds)} ms`;
}

/** @param {number} fraction 0..1 */
export function formatPercent(fraction) {
  return `${Math.round(fraction * 100)}%`;
}

/** @param {string} iso */
export function formatTime(iso) {
  return new Date(iso).toLocaleTimeString();
}
