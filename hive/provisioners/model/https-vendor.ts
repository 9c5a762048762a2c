// Fetches a model from a plain URL (`https://host/path/x.gguf`; `http://` only for this machine,
// which tests use) into the model catalog, resumably. Such URLs publish no SHA-256, so the hash is
// computed while downloading and recorded, not verified; a resume sends `If-Range` so a file that
// changed on the server is fetched whole instead of being spliced onto the old part. The URL's query
// (a pre-signed link's credential) is used to download, never written to the catalog or narrated.
import { RbeeError } from "../../../shared/errors.js";
import { withoutQuery } from "../../../shared/redact-url.js";
import type { ModelArtifact } from "../../catalog/model/model-artifact.js";
import { modelEntry } from "../../catalog/model/model-entry.js";
import type { VendorContext, VendorSource } from "../../catalog/vendor-source.js";
import { DOWNLOAD_DEFAULTS, type DownloadSettings, downloadResumable } from "../download/resumable-download.js";
import { MODEL_DOWNLOAD_GAVE_UP, refusalError } from "./http-refusal.js";
import { type Environment, huggingFaceConfig } from "./hugging-face-config.js";
import { parseModelSource } from "./model-source.js";

export class HttpsVendor implements VendorSource<ModelArtifact> {
  readonly name = "https";

  constructor(
    /** For the Hugging Face token, sent only when the URL is on HF_ENDPOINT's origin. */
    private readonly env: Environment,
    private readonly settings: DownloadSettings = DOWNLOAD_DEFAULTS,
  ) {}

  /** Also takes http: URLs, so one for another machine gets the message about loopback, not "unsupported". */
  supports(source: string): boolean {
    if (!source.startsWith("https:") && !source.startsWith("http:")) return false;
    parseModelSource(source); // see HuggingFaceVendor.supports
    return true;
  }

  async fetch(request: { id: string; source: string }, folder: string, context: VendorContext): Promise<ModelArtifact> {
    const source = parseModelSource(request.source);
    if (source.kind !== "https") throw new RbeeError(400, "unsupported_artifact_id", `'${request.source}' is not an https:// model URL`);
    const hub = await huggingFaceConfig(this.env);
    const onHub = source.url.origin === new URL(hub.endpoint).origin;
    const headers: Record<string, string> = {};
    if (onHub && hub.token !== null) {
      headers.authorization = `Bearer ${hub.token}`;
      context.narrate("auth", `${source.url.host} is the Hugging Face hub (HF_ENDPOINT), so the token from ${hub.tokenSource ?? "HF_TOKEN"} is sent with the download`);
    }
    const accessHint = onHub
      ? "set HF_TOKEN to a Hugging Face token that can read the repo, and accept its conditions on its page if it is gated"
      : "rbee sends no credentials to other hosts; use a URL that needs none (a pre-signed link), or download the file and use file:/path/to/it.gguf";
    const label = withoutQuery(source.url.href);
    const { sha256 } = await downloadResumable(
      {
        url: source.url.href,
        headers,
        folder,
        fileName: source.fileName,
        expectedSha256: null,
        expectedBytes: null,
        label,
        refusal: (response) => refusalError(response, label, accessHint),
        gaveUp: MODEL_DOWNLOAD_GAVE_UP,
      },
      context,
      this.settings,
    );
    context.narrate("verify", `${label}: SHA-256 ${sha256} recorded (plain URLs publish none to verify against)`);
    return modelEntry({ id: request.id, vendor: this.name, folder, fileName: source.fileName, origin: label, sha256, linked: false });
  }
}
