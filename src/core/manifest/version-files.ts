import { dirname } from 'node:path';
import { parseTomlStrict, tomlValueOf } from './toml-parser';
import { LineIndex } from './line-index';
import { VERSION_FILE_NAMES, type VersionFileKind } from './names';
import { sortProblems } from './problems';
import { toolSpecProblem } from './known-tools';
import type { Manifest, ManifestKind, ManifestProblem, ProblemSeverity, SourceRange, ToolEntry } from './types';

export { VERSION_FILE_NAMES, type VersionFileKind } from './names';

/** The one tool each version file declares. */
export const VERSION_FILE_TOOLS: Readonly<Record<VersionFileKind, string>> = Object.freeze({
  '.python-version': 'python',
  '.java-version': 'java',
  '.sdkmanrc': 'java',
  'rust-toolchain.toml': 'rust',
  'rust-toolchain': 'rust',
  'go.mod': 'go',
  'package.json': 'node',
});

export function isVersionFileKind(kind: ManifestKind): kind is VersionFileKind {
  return (VERSION_FILE_NAMES as readonly string[]).includes(kind);
}

/** Collects the tools and problems of one file, each with its exact range. */
class Reader {
  readonly tools: ToolEntry[] = [];
  readonly problems: ManifestProblem[] = [];
  readonly lines: LineIndex;

  constructor(readonly text: string, readonly file: string, readonly kind: VersionFileKind) {
    this.lines = new LineIndex(text);
  }

  range(start: number, end: number): SourceRange {
    return this.lines.range(start, end);
  }

  problem(severity: ProblemSeverity, message: string, start: number, end: number): void {
    this.problems.push({ severity, code: 'bad-spec', message, range: this.range(start, end) });
  }

  /** Declares `tool` at `spec` (as written at start..end, or translated); the first declaration of a tool wins. */
  tool(tool: string, spec: string, start: number, end: number, keyStart = start, keyEnd = end): void {
    if (this.tools.some((t) => t.name === tool)) return;
    const problem = toolSpecProblem(tool, spec);
    if (problem) {
      this.problem('error', `${this.kind}: ${problem}`, start, end);
      return;
    }
    this.tools.push({ name: tool, spec, nameRange: this.range(keyStart, keyEnd), specRange: this.range(start, end), entryRange: this.range(Math.min(keyStart, start), Math.max(keyEnd, end)) });
  }

  manifest(): Manifest {
    return { file: this.file, kind: this.kind, dir: dirname(this.file), tools: this.tools, artifacts: [], problems: sortProblems(this.problems) };
  }
}

/** Parses one version file by kind. Never throws: every mistake is a problem naming the line. */
export function parseVersionFile(text: string, file: string, kind: VersionFileKind): Manifest {
  const reader = new Reader(text, file, kind);
  switch (kind) {
    case '.python-version':
      readOneVersion(reader, 'python', (word) => word);
      break;
    case '.java-version':
      // jenv writes "21", "17.0", or a vendor's name: "temurin64-21.0.5", "openjdk64-17.0.2".
      readOneVersion(reader, 'java', (word) => word.replace(/^[a-z]+(?:64)?-(?=\d)/i, ''));
      break;
    case 'rust-toolchain':
      readOneVersion(reader, 'rust', (word) => word);
      break;
    case '.sdkmanrc':
      readSdkmanrc(reader);
      break;
    case 'rust-toolchain.toml':
      readRustToolchainToml(reader);
      break;
    case 'go.mod':
      readGoMod(reader);
      break;
    case 'package.json':
      readPackageJson(reader);
      break;
  }
  return reader.manifest();
}

/** Words of each line, `#` comments dropped: the first word of the first line that has one is the version. */
function readOneVersion(reader: Reader, tool: string, translate: (word: string) => string): void {
  const { lines, text } = reader;
  for (let line = 0; line < lines.lineCount; line++) {
    const content = text.slice(lines.lineStart(line), lines.lineEnd(line));
    const match = /^\s*([^\s#]+)/.exec(content);
    if (!match) continue;
    const start = lines.lineStart(line) + content.indexOf(match[1]!);
    const end = start + match[1]!.length;
    if (reader.tools.length > 0 || reader.problems.length > 0) {
      reader.problem('information', `${reader.kind}: only the first version is used; "${match[1]}" is ignored`, start, end);
      continue;
    }
    const word = match[1]!;
    if (word === 'system') reader.problem('error', `${reader.kind}: "system" means a ${tool} Quartermaster does not manage; write a version`, start, end);
    else if (tool === 'rust' && /^(nightly|beta)/.test(word)) reader.problem('error', `${reader.kind}: Quartermaster installs stable Rust releases ("1.83", "1.83.0", "stable"), not "${word}"`, start, end);
    else reader.tool(tool, translate(word), start, end);
  }
  if (reader.tools.length === 0 && reader.problems.length === 0) reader.problem('error', `${reader.kind} names no version`, 0, 0);
}

/** SDKMAN!'s `candidate=version` lines; java's "21.0.5-tem" is Temurin 21.0.5. Other candidates are passed over. */
function readSdkmanrc(reader: Reader): void {
  const { lines, text } = reader;
  for (let line = 0; line < lines.lineCount; line++) {
    const start = lines.lineStart(line);
    const content = text.slice(start, lines.lineEnd(line));
    const match = /^\s*([A-Za-z0-9_]+)\s*=\s*([^\s#]*)/.exec(content);
    if (!match || match[1] !== 'java') continue;
    const valueStart = start + match[0].length - match[2]!.length;
    const valueEnd = valueStart + match[2]!.length;
    const keyStart = start + content.indexOf('java');
    const identifier = /^(\d[\w.+]*?)(?:-([a-z]+))?$/.exec(match[2]!);
    if (!identifier) {
      reader.problem('error', `.sdkmanrc: "${match[2]}" is not a java version such as "21.0.5-tem"`, valueStart, valueEnd);
      continue;
    }
    if (identifier[2] !== undefined && identifier[2] !== 'tem') {
      reader.problem('information', `.sdkmanrc: Quartermaster installs Eclipse Temurin, not "${identifier[2]}"; ${identifier[1]} is Temurin's`, valueStart, valueEnd);
    }
    reader.tool('java', identifier[1]!, valueStart, valueEnd, keyStart, keyStart + 4);
  }
}

/** rustup's `[toolchain] channel = "1.83.0"`; components and targets beyond rustup's default profile are noted, not installed. */
function readRustToolchainToml(reader: Reader): void {
  let data: unknown;
  try {
    data = tomlValueOf(parseTomlStrict(reader.text));
  } catch (error) {
    const where = error as { index?: number; message?: string };
    reader.problem('error', `rust-toolchain.toml: TOML syntax error: ${where.message ?? 'not valid TOML'}`, where.index ?? 0, where.index ?? 0);
    return;
  }
  const toolchain = (data as { toolchain?: Record<string, unknown> } | null)?.toolchain;
  const at = (needle: string): [number, number] => {
    const index = reader.text.indexOf(needle);
    return index < 0 ? [0, 0] : [index, index + needle.length];
  };
  if (typeof toolchain !== 'object' || toolchain === null || typeof toolchain.channel !== 'string') {
    const [start, end] = at('[toolchain]');
    reader.problem('error', 'rust-toolchain.toml: no [toolchain] channel, e.g. channel = "1.83.0"', start, end);
    return;
  }
  const channel = toolchain.channel;
  const [start, end] = at(JSON.stringify(channel));
  const keyIndex = reader.text.indexOf('channel');
  if (/^(nightly|beta)/.test(channel)) reader.problem('error', `rust-toolchain.toml: Quartermaster installs stable Rust releases ("1.83", "1.83.0", "stable"), not "${channel}"`, start, end);
  else reader.tool('rust', channel, start, end, keyIndex, keyIndex + 'channel'.length);
  const extra = Array.isArray(toolchain.components) ? toolchain.components.filter((c) => typeof c === 'string' && !['rustfmt', 'clippy', 'rustc', 'cargo', 'rust-std'].includes(c)) : [];
  if (extra.length > 0) {
    const [cStart, cEnd] = at('components');
    reader.problem('information', `rust-toolchain.toml: Quartermaster installs rustc, cargo, rust-std, rustfmt and clippy; ${extra.join(', ')} ${extra.length === 1 ? 'is' : 'are'} not installed`, cStart, cEnd);
  }
}

/** go.mod's `toolchain go1.23.4` line, else its `go 1.23` line (the minimum, as a prefix). */
function readGoMod(reader: Reader): void {
  const { lines, text } = reader;
  let go: { spec: string; start: number; end: number; keyStart: number } | undefined;
  for (let line = 0; line < lines.lineCount; line++) {
    const start = lines.lineStart(line);
    const content = text.slice(start, lines.lineEnd(line)).replace(/\/\/.*$/, '');
    const match = /^\s*(go|toolchain)\s+(\S+)\s*$/.exec(content);
    if (!match) continue;
    const valueStart = start + content.lastIndexOf(match[2]!);
    const keyStart = start + content.indexOf(match[1]!);
    if (match[1] === 'toolchain') {
      if (match[2] === 'default') continue;
      const version = match[2]!.replace(/^go/, '').replace(/-.*$/, '');
      reader.tool('go', version, valueStart, valueStart + match[2]!.length, keyStart, keyStart + 'toolchain'.length);
    } else go ??= { spec: match[2]!, start: valueStart, end: valueStart + match[2]!.length, keyStart };
  }
  if (go) reader.tool('go', go.spec, go.start, go.end, go.keyStart, go.keyStart + 2);
}

/** package.json's volta.node (exact), devEngines.runtime (name "node"), engines.node: the first present wins. */
function readPackageJson(reader: Reader): void {
  let data: unknown;
  try {
    data = JSON.parse(reader.text) as unknown;
  } catch (error) {
    reader.problem('error', `package.json is not valid JSON: ${(error as Error).message}`, 0, 0);
    return;
  }
  if (typeof data !== 'object' || data === null) return;
  const record = data as Record<string, unknown>;
  const candidates: Array<[string, unknown]> = [];
  const volta = record.volta as Record<string, unknown> | undefined;
  if (volta && typeof volta === 'object') candidates.push(['"node"', volta.node]);
  const runtimes = (record.devEngines as Record<string, unknown> | undefined)?.runtime;
  for (const runtime of Array.isArray(runtimes) ? runtimes : runtimes ? [runtimes] : []) {
    if (runtime && typeof runtime === 'object' && (runtime as Record<string, unknown>).name === 'node') candidates.push(['"version"', (runtime as Record<string, unknown>).version]);
  }
  const engines = record.engines as Record<string, unknown> | undefined;
  if (engines && typeof engines === 'object') candidates.push(['"node"', engines.node]);
  for (const [key, value] of candidates) {
    if (typeof value !== 'string') continue;
    const needle = JSON.stringify(value);
    // The value's own characters, after its key: good enough to point an editor at it.
    const keyAt = reader.text.indexOf(key);
    const start = reader.text.indexOf(needle, keyAt < 0 ? 0 : keyAt) + 1;
    const end = start + value.length;
    reader.tool('node', value, start, end, keyAt < 0 ? start : keyAt, keyAt < 0 ? end : keyAt + key.length);
    return;
  }
}
