// The names a worker release asset may have, and reading one back. `npm run release:worker` names
// its archives like the catalog id (`cpu-llm-worker-rbee-v0.1.0-linux.tar.gz`); releases made by
// hand or by older rbee also use the name without the version (`cpu-llm-worker-rbee-linux`, the
// tag already says it), the old platform spellings (`-darwin`, `-win32`), a bare Node script
// (`.mjs`, `.js`) or a native executable (no extension). Used by the GitHub-releases vendor to
// pick an asset and by the worker source parser to read a release download URL.
import { platformSpellings, catalogPlatform } from "../../catalog/worker/worker-platform.js";
import { WorkerType, workerArtifactId } from "../../catalog/worker/worker-artifact.js";

/** How an asset is installed: unpacked (a release archive), run with Node, or executed. */
export type AssetForm = "archive" | "node" | "native";

/** Endings in order of preference: rbee's own release archive first. */
const FORMS: ReadonlyArray<{ suffix: string; form: AssetForm }> = [
  { suffix: ".tar.gz", form: "archive" },
  { suffix: "", form: "native" },
  { suffix: ".mjs", form: "node" },
  { suffix: ".js", form: "node" },
];

export interface AssetName {
  name: string;
  form: AssetForm;
}

/** Every name an asset of this worker may have, the most specific first (with the version, the catalog's platform name). */
export function releaseAssetNames(workerType: WorkerType, version: string, platform: string): AssetName[] {
  const stems: string[] = [];
  for (const withVersion of [true, false]) {
    for (const spelling of platformSpellings(platform)) {
      stems.push(withVersion ? workerArtifactId(workerType, version, spelling) : `${workerType}-llm-worker-rbee-${spelling}`);
    }
  }
  return stems.flatMap((stem) => FORMS.map(({ suffix, form }) => ({ name: `${stem}${suffix}`, form })));
}

export interface ParsedAssetName {
  workerType: WorkerType;
  /** Null when the name leaves the version to the release's tag. */
  version: string | null;
  /** The catalog's platform name. */
  platform: string;
  form: AssetForm;
}

const ASSET = /^([a-z]+)-llm-worker-rbee-(?:v(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)-)?([a-z0-9]+)(\.tar\.gz|\.mjs|\.js)?$/;

/** Reads a worker asset's name; undefined when it is not named like one. */
export function parseReleaseAssetName(name: string): ParsedAssetName | undefined {
  const match = ASSET.exec(name);
  const workerType = WorkerType.safeParse(match?.[1]);
  const platform = match?.[3];
  if (!match || !workerType.success || platform === undefined) return undefined;
  const form = FORMS.find(({ suffix }) => suffix === (match[4] ?? ""))?.form ?? "native";
  return { workerType: workerType.data, version: match[2] ?? null, platform: catalogPlatform(platform), form };
}
