// @ts-check
// The dashboard page's entry: asks for the admin key once (kept by key-store.js), follows the
// queen's feed (event-stream.js) and redraws every section from each snapshot. Signing out, or a
// key the queen refuses, forgets the key and shows the sign-in form again.
import { followDashboard } from "./event-stream.js";
import { formatTime } from "./format.js";
import { forgetKey, savedKey, saveKey } from "./key-store.js";
import { section } from "./dom.js";
import { hiveCard } from "./render-hives.js";
import { jobCard } from "./render-jobs.js";
import { modelCard } from "./render-models.js";
import { trafficCard } from "./render-traffic.js";
import { workerCard } from "./render-workers.js";

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no #${id}`);
  return element;
}

const page = {
  status: byId("status", HTMLElement),
  signOut: byId("sign-out", HTMLButtonElement),
  signIn: byId("sign-in", HTMLFormElement),
  keyInput: byId("key", HTMLInputElement),
  signInError: byId("sign-in-error", HTMLElement),
  board: byId("board", HTMLElement),
  problem: byId("problem", HTMLElement),
};

const sections = {
  traffic: section("traffic", "Traffic", ""),
  hives: section("hives", "Hives", "No hive registered yet: create one with POST /v1/hives, then run rbee-hive connect."),
  workers: section("workers", "Workers", "No worker running. A request for a model a hive has starts one."),
  models: section("models", "Models", "No model yet: download one to a hive, or start a worker."),
  jobs: section("jobs", "Running jobs", "No job running."),
};
page.board.append(...Object.values(sections).map((shown) => shown.element));

/** @type {{ close(): void } | undefined} */
let feed;

/** @param {string} text */
function setStatus(text, live = false) {
  page.status.textContent = text;
  page.status.classList.toggle("live", live);
}

/** @param {string} [error] shown under the form, e.g. why the queen refused the key */
function showSignIn(error) {
  feed?.close();
  feed = undefined;
  page.board.hidden = true;
  page.signOut.hidden = true;
  page.signIn.hidden = false;
  page.signInError.hidden = error === undefined;
  page.signInError.textContent = error ?? "";
  setStatus("signed out");
  page.keyInput.focus();
}

/** @param {string} key */
function start(key) {
  page.signIn.hidden = true;
  page.signOut.hidden = false;
  page.board.hidden = false;
  page.problem.hidden = true;
  feed = followDashboard(key, {
    onState: (state) => setStatus(state === "live" ? "live" : `${state}…`, state === "live"),
    onSnapshot: (snapshot) => {
      // The key worked: keep it for the next visit.
      saveKey(key);
      page.problem.hidden = true;
      sections.traffic.show([trafficCard(snapshot.traffic, snapshot.queued)]);
      sections.hives.show(snapshot.hives.map(hiveCard));
      sections.workers.show(snapshot.workers.map(workerCard));
      sections.models.show(snapshot.models.map(modelCard));
      sections.jobs.show(snapshot.jobs.map(jobCard));
      setStatus(`live · ${formatTime(snapshot.at)}`, true);
    },
    onProblem: (message) => {
      page.problem.hidden = false;
      page.problem.textContent = message;
    },
    onRefused: (message) => {
      forgetKey();
      showSignIn(`The queen refused this key: ${message} Use an admin key (RBEE_ADMIN_KEY, or one created with the admin scope).`);
    },
  });
}

page.signIn.addEventListener("submit", (event) => {
  event.preventDefault();
  const key = page.keyInput.value.trim();
  page.keyInput.value = "";
  if (key !== "") start(key);
});

page.signOut.addEventListener("click", () => {
  forgetKey();
  showSignIn();
});

const key = savedKey();
if (key) start(key);
else showSignIn();
