// Fetches `hf:` models from the Hugging Face Hub (or the hub HF_ENDPOINT names) into the model
// catalog: picks the file when the id names only a repo or a quantization, learns the file's
// SHA-256 and size from the hub, and downloads it resumably, verified against that SHA-256.
import path from "node:path";
import { RbeeError } from "../../../shared/errors.js";
import { checkSafeSegment } from "../../catalog/artifact-id.js";
import type { ModelArtifact } from "../../catalog/model/model-artifact.js";
import { modelEntry } from "../../catalog/model/model-entry.js";
import type { VendorContext, VendorSource } from "../../catalog/vendor-source.js";
import { formatBytes } from "../download/disk-space.js";
import type { AnswerHead } from "../download/guarded-get.js";
import { DOWNLOAD_DEFAULTS, type DownloadSettings, downloadResumable } from "../download/resumable-download.js";
import { type Environment, huggingFaceConfig } from "./hugging-face-config.js";
import { HuggingFaceHub } from "./hugging-face-hub.js";
import { MODEL_DOWNLOAD_GAVE_UP } from "./http-refusal.js";
import { checkRepoPath, parseModelSource } from "./model-source.js";
import { BARE_HUGGING_FACE_ID } from "../../../shared/models/bare-model-id.js";
import { isSplitPart, pickGgufFile } from "./pick-gguf-file.js";

export class HuggingFaceVendor implements VendorSource<ModelArtifact> {
  readonly name = "hugging-face";

  constructor(
    /** Where HF_ENDPOINT and HF_TOKEN are read from, at each fetch (usually `process.env`). */
    private readonly env: Environment,
    private readonly settings: DownloadSettings = DOWNLOAD_DEFAULTS,
  ) {}

  /**
   * True for `hf:` ids and bare `org/repo` ones; a malformed one throws its 400 here, because the provisioner asks this
   * before it takes the lock and writes a placeholder entry, so a hostile id never gets a folder.
   */
  supports(source: string): boolean {
    if (!source.startsWith("hf:") && !BARE_HUGGING_FACE_ID.test(source)) return false;
    parseModelSource(source);
    return true;
  }

  async fetch(request: { id: string; source: string }, folder: string, context: VendorContext): Promise<ModelArtifact> {
    const source = parseModelSource(request.source);
    if (source.kind !== "hugging-face") throw new RbeeError(400, "unsupported_artifact_id", `'${request.source}' is not an hf: model id`);
    const { repo, revision } = source;
    const hub = new HuggingFaceHub(await huggingFaceConfig(this.env));
    let filePath = source.filePath;
    if (filePath === null) {
      context.narrate("list", `listing the files of hf:${repo} at ${revision} on ${hub.config.endpoint}`);
      const files = await hub.listFiles(repo, revision, context.signal);
      const pick = pickGgufFile(repo, files.filter((each) => each.type === "file").map((each) => each.path), source.quantization);
      context.narrate("pick", pick.reason);
      filePath = checkRepoPath(pick.filePath, `hf:${repo}`); // the hub's names are checked like the user's
    } else if (isSplitPart(filePath)) {
      throw new RbeeError(422, "unsupported_model", `hf:${repo}/${filePath} is one part of a split model; rbee fetches single-file GGUFs only, so pick a quantization the repo has as one file`);
    }
    const label = `hf:${repo}/${filePath}`;
    const fileName = checkSafeSegment(path.posix.basename(filePath), `file name of ${label}`);
    const info = await hub.fileInfo(repo, revision, filePath, context.signal);
    context.narrate(
      "resolve",
      `${label} at ${info.commit ?? revision}: ${info.sizeBytes === null ? "size unknown" : formatBytes(info.sizeBytes)}, ` +
        (info.sha256 === null ? "no SHA-256 published (it is computed and recorded, not verified)" : `SHA-256 ${info.sha256}`),
    );
    const refusal = (response: AnswerHead) => hub.refusal(response, repo, filePath, revision);
    const { sha256 } = await downloadResumable(
      {
        url: info.downloadUrl,
        headers: hub.headers(),
        folder,
        fileName,
        expectedSha256: info.sha256,
        expectedBytes: info.sizeBytes,
        label,
        refusal,
        gaveUp: MODEL_DOWNLOAD_GAVE_UP,
      },
      context,
      this.settings,
    );
    context.narrate("verify", info.sha256 === null ? `${label}: SHA-256 ${sha256} recorded` : `${label}: SHA-256 matches the hub's (${sha256})`);
    return modelEntry({ id: request.id, vendor: this.name, folder, fileName, origin: info.downloadUrl, sha256, linked: false });
  }
}
