// Strips the query and fragment from an http(s) URL before it is stored or shown: a pre-signed
// download link carries its credential there (X-Amz-Signature, sig=, token=, …). The queen uses it
// for the job params it keeps in D1, the hive for catalog ids, origins and messages; the download
// itself still uses the full URL.

/** `https://host/x.gguf?X-Amz-Signature=…` → `https://host/x.gguf`; anything not an http(s) URL is returned as it is. */
export function withoutQuery(value: string): string {
  if (!/^https?:\/\//i.test(value)) return value;
  try {
    const url = new URL(value);
    url.search = "";
    url.hash = "";
    return url.href;
  } catch {
    return value.replace(/[?#].*$/s, "");
  }
}
