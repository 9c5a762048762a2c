// A place artifacts come from (Hugging Face, a plain URL, a local file, GitHub releases, this
// repository's own build). A vendor recognises its sources by their scheme and fetches one artifact
// into a folder the catalog gives it, writing nowhere else.
import type { Artifact } from "./artifact.js";

export interface VendorContext {
  /** Aborted when whoever asked for the artifact no longer wants it. */
  signal: AbortSignal;
  /** One step a person would want to read, e.g. narrate("resolve", "picked Q4_K_M"). */
  narrate(action: string, message: string): void;
  /** Bytes fetched so far, the total when known, and the current rate in bytes per second. */
  progress(bytes: number, total: number | null, bytesPerSecond: number): void;
}

export interface FetchRequest {
  id: string;
  source: string;
  /** Make it afresh even where something could be reused (a local worker: compile llama.cpp even if a prebuilt binary loads). */
  rebuild?: boolean;
}

export interface VendorSource<T extends Artifact> {
  /** Shown in narration and kept in the entry, e.g. `hugging-face`. */
  readonly name: string;
  /** Whether this vendor understands the source (by its scheme, e.g. `hf:`). */
  supports(source: string): boolean;
  /**
   * Puts the artifact's files into `folder` (which exists and is this artifact's alone while
   * the catalog lock is held) and returns the entry, with status `available`. Files left by an
   * earlier interrupted attempt may be in the folder, for the vendor to resume from.
   */
  fetch(request: FetchRequest, folder: string, context: VendorContext): Promise<T>;
}
