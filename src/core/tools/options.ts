/**
 * Per-tool settings a manifest may give beside the version (qm.toml's inline-table form), for
 * the generic GitHub backend: `asset` (one name, or one per platform id, with {version} and
 * {tag}), `bin` (the program's name), `checksums` (the checksums asset's name).
 */
export interface ToolOptions {
  asset?: string | Record<string, string>;
  bin?: string;
  checksums?: string;
}
