// The names a model answers to on this hive. Each catalog entry answers to the name derived from
// its source (shared/models/model-name.ts), and to every name a worker of it was started under,
// which its entry remembers: `npm start -- --model-name chat` serves the tiny model as `chat`,
// and once the queen unloads that idle worker (or it crashes), a request for `chat` must start
// it again rather than find no such model.
//
// Two entries may answer to one name: two files both called model.gguf, or a file derived as
// `chat` beside another served as `chat`. The one most recently started under that name wins, so
// the model a user ran last under a name is the one the queen loads again; between entries never
// started under it, the first by id.
import { modelNameFromSource } from "../../../shared/models/model-name.js";
import type { ArtifactCatalog } from "../artifact-catalog.js";
import { MAX_SERVED_NAMES, type ModelArtifact } from "./model-artifact.js";

/** Remembers on entry `id` that a worker of it was started as `name` now (the latest of its names first). */
export async function noteServedName(catalog: ArtifactCatalog<ModelArtifact>, id: string, name: string, signal: AbortSignal, now = new Date()): Promise<void> {
  await catalog.withLock(id, signal, () => {}, async () => {
    const entry = await catalog.get(id);
    if (entry?.status.state !== "available") return; // deleted meanwhile: nothing to remember it on
    const earlier = (entry.servedAs ?? []).filter((served) => served.name !== name);
    await catalog.add({ ...entry, servedAs: [{ name, at: now.toISOString() }, ...earlier].slice(0, MAX_SERVED_NAMES) });
  });
}

/** Each name the entries answer to, with the entry it means. */
export function entriesByName(entries: readonly ModelArtifact[]): Map<string, ModelArtifact> {
  const chosen = new Map<string, { entry: ModelArtifact; servedAtMs: number }>();
  const consider = (name: string, entry: ModelArtifact, servedAtMs: number) => {
    const current = chosen.get(name);
    const wins = current === undefined || servedAtMs > current.servedAtMs || (servedAtMs === current.servedAtMs && entry.id < current.entry.id);
    if (wins) chosen.set(name, { entry, servedAtMs });
  };
  for (const entry of entries) {
    const served = new Map((entry.servedAs ?? []).map(({ name, at }) => [name, Date.parse(at)]));
    for (const [name, atMs] of served) consider(name, entry, Number.isNaN(atMs) ? Number.NEGATIVE_INFINITY : atMs);
    const derived = modelNameFromSource(entry.id);
    if (!served.has(derived)) consider(derived, entry, Number.NEGATIVE_INFINITY);
  }
  return new Map([...chosen].map(([name, { entry }]) => [name, entry]));
}
