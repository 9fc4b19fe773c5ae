import type { ToolOptions } from '../tools/options';

/** A place in a manifest as a person reads it: 1-based line and column, plus the 0-based offset. */
export interface Position {
  line: number;
  /** 1-based, counted in UTF-16 code units (as JavaScript strings and LSP count them). */
  column: number;
  /** 0-based index into the text. */
  offset: number;
}

/** From `start` (inclusive) to `end` (exclusive). */
export interface SourceRange {
  start: Position;
  end: Position;
}

/** One tool a manifest asks for, e.g. `node = "22"`. */
export interface ToolEntry {
  /** Quartermaster's name for the tool ("node", even when .tool-versions says "nodejs"). */
  name: string;
  /** The version spec as written (after asdf's `latest:22` and `lts-iron` are translated). */
  spec: string;
  /** The key naming the tool; for .nvmrc and .node-version, which name none, the spec. */
  nameRange: SourceRange;
  /** The value, quotes included in qm.toml. */
  specRange: SourceRange;
  /** The whole key/value or line. */
  entryRange: SourceRange;
  /** The file that declares it, when not the manifest itself (a version file beside qm.toml). */
  file?: string;
  /** qm.toml's inline-table form for a GitHub release: `{ version = "...", asset = "...", bin = "..." }`. */
  options?: ToolOptions;
}

/** The ranges of one `key = value` inside an artifact. */
export interface KeyValueRanges {
  keyRange: SourceRange;
  valueRange: SourceRange;
  entryRange: SourceRange;
}

/**
 * One file pinned by URL and digest. Declared artifacts are listed even when invalid (so editor
 * features can still offer fixes): then `url`/`sha256` are '' and a problem says why.
 */
export interface ArtifactEntry {
  name: string;
  /** '' when missing or not a string. */
  url: string;
  /** Lower-cased; '' when missing or not a string. */
  sha256: string;
  /** Relative to the manifest's directory, as written. */
  dest?: string;
  /** `[artifacts.name]` brackets included, or the dotted key that first defines the artifact. */
  headerRange: SourceRange;
  /** The artifact's name inside the header or key. */
  nameRange: SourceRange;
  /** From the header to the end of the artifact's last key/value. */
  entryRange: SourceRange;
  fields: { url?: KeyValueRanges; sha256?: KeyValueRanges; dest?: KeyValueRanges };
}

export type ProblemSeverity = 'error' | 'warning' | 'information';

export type ProblemCode =
  /** Not valid TOML (or not the legacy file's line format). */
  | 'syntax'
  /** A key or table Quartermaster does not read. */
  | 'unknown-key'
  /** A tool name no provider knows. */
  | 'unknown-tool'
  /** A tool version that is not a string or not a version spec. */
  | 'bad-spec'
  | 'bad-sha256'
  | 'bad-url'
  | 'bad-dest'
  /** `tools` or an artifact that is not a table. */
  | 'bad-type'
  /** An artifact without `url` or `sha256`. */
  | 'missing-key'
  /** A key, table, tool or destination defined twice. */
  | 'duplicate';

export interface ManifestProblem {
  severity: ProblemSeverity;
  code: ProblemCode;
  message: string;
  range: SourceRange;
  /** The file it is in, when not the manifest itself (a version file beside qm.toml). */
  file?: string;
}

export type ManifestKind =
  | 'qm.toml'
  | '.tool-versions'
  | '.nvmrc'
  | '.node-version'
  | '.python-version'
  | '.java-version'
  | '.sdkmanrc'
  | 'rust-toolchain.toml'
  | 'rust-toolchain'
  | 'go.mod'
  | 'package.json';

export interface Manifest {
  /** The path as given to the parser. */
  file: string;
  kind: ManifestKind;
  /** The project directory: the manifest's own directory. */
  dir: string;
  tools: ToolEntry[];
  artifacts: ArtifactEntry[];
  /** Sorted by position; entries are only trustworthy when no problem is an 'error'. */
  problems: ManifestProblem[];
}
