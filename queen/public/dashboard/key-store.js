// @ts-check
// Keeps the admin key in this browser's localStorage, so the dashboard asks for it once; signing
// out forgets it. The key never leaves the browser except in the Authorization header.

const STORAGE_KEY = "rbee.dashboard.adminKey";

/** @returns {string | null} */
export function savedKey() {
  return localStorage.getItem(STORAGE_KEY);
}

/** @param {string} key */
export function saveKey(key) {
  localStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey() {
  localStorage.removeItem(STORAGE_KEY);
}
