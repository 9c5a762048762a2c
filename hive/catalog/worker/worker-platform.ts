// The platform part of worker ids and release asset names: `linux`, `macos`, `windows`, as the
// original rbee catalog names them, mapped from Node's `process.platform`. Ids written before
// (`-darwin`, `-win32`, straight from process.platform) are aliases that read as the same
// platform, so old catalogs, old release assets and old ids keep working. Used by the worker id
// parser, the install step that names a catalog entry, and the release script.

/** Node's platform name → the catalog's. Platforms not listed keep Node's name (`freebsd`). */
const CATALOG_NAMES: Readonly<Record<string, string>> = { darwin: "macos", win32: "windows", linux: "linux" };

/** The catalog's platform name for a Node platform name, or an alias read back from an id. */
export function catalogPlatform(platform: string): string {
  return CATALOG_NAMES[platform] ?? platform;
}

/** This machine's platform as worker ids name it. */
export function hostPlatform(): string {
  return catalogPlatform(process.platform);
}

/** Every spelling of a catalog platform, the catalog's own first: `macos` → `macos`, `darwin`. */
export function platformSpellings(platform: string): string[] {
  const canonical = catalogPlatform(platform);
  const aliases = Object.entries(CATALOG_NAMES)
    .filter(([node, name]) => name === canonical && node !== canonical)
    .map(([node]) => node);
  return [canonical, ...aliases];
}
