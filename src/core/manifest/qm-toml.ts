import { dirname } from 'node:path';
import { normalizeProjectPath } from '../paths/safe-names';
import { isGithubTool } from '../tools/catalog';
import type { ToolOptions } from '../tools/options';
import { destProblem, sha256Problem, urlProblem } from './artifact-fields';
import { exampleVersion, isKnownTool, toolSpecProblem, unknownToolMessage } from './known-tools';
import { LineIndex } from './line-index';
import { sortProblems } from './problems';
import { parseTomlTolerant, type AST } from './toml-parser';
import type { ArtifactEntry, KeyValueRanges, Manifest, ManifestProblem, ProblemCode, SourceRange, ToolEntry } from './types';

export { KNOWN_TOOLS } from './known-tools';

const ARTIFACT_FIELDS = ['url', 'sha256', 'dest'] as const;
type ArtifactField = (typeof ARTIFACT_FIELDS)[number];
const FIELD_CODES: Record<ArtifactField, ProblemCode> = { url: 'bad-url', sha256: 'bad-sha256', dest: 'bad-dest' };

/**
 * Reads a qm.toml. Never throws, whatever the text: syntax errors and every other mistake
 * become problems with exact ranges, because a language server calls this on each keystroke.
 */
export function parseQmToml(text: string, file: string): Manifest {
  const lines = new LineIndex(text);
  const problems: ManifestProblem[] = [];
  const parsed = parseTomlTolerant(text, lines);
  for (const error of parsed.errors) {
    const duplicate = error.duplicateKey !== undefined;
    problems.push({
      severity: 'error',
      code: duplicate ? 'duplicate' : 'syntax',
      message: duplicate
        ? `"${error.duplicateKey}" is defined more than once: a TOML key or table can be defined only once`
        : `TOML syntax error: ${error.message}`,
      range: lines.range(error.start, error.end),
    });
  }
  const reader = new QmTomlReader(lines, problems, parsed.placeholderTables);
  if (parsed.program) reader.read(parsed.program);
  return { file, kind: 'qm.toml', dir: dirname(file), tools: reader.tools, artifacts: reader.finishArtifacts(), problems: sortProblems(problems) };
}

/** One key segment with the node that spells it, so problems point at the right characters. */
interface Segment {
  name: string;
  node: AST.TOMLBare | AST.TOMLQuoted;
}

interface FieldValue {
  value: AST.TOMLContentNode;
  ranges: KeyValueRanges;
}

interface ArtifactDraft {
  name: string;
  headerRange: SourceRange;
  nameRange: SourceRange;
  start: number;
  end: number;
  fields: Partial<Record<ArtifactField, FieldValue>>;
  /** Defined as something other than a table (already reported), so its fields are not checked. */
  notATable?: boolean;
  /** Fields defined as tables (already reported), so not "missing" either. */
  tableFields: Set<ArtifactField>;
}

/** Walks the TOML tree once, collecting tools, artifacts and problems. */
class QmTomlReader {
  readonly tools: ToolEntry[] = [];
  private readonly artifacts = new Map<string, ArtifactDraft>();

  constructor(
    private readonly lines: LineIndex,
    private readonly problems: ManifestProblem[],
    private readonly placeholderTables: ReadonlySet<number>,
  ) {}

  read(program: AST.TOMLProgram): void {
    for (const item of program.body[0].body) {
      if (item.type === 'TOMLTable') this.readTable(item);
      else this.readKeyValue([], item);
    }
  }

  private readTable(table: AST.TOMLTable): void {
    if (this.placeholderTables.has(table.range[0])) return;
    const path = segmentsOf(table.key);
    const [root, second, third] = path;
    const header = `[${table.kind === 'array' ? '[' : ''}${path.map((s) => s.name).join('.')}${table.kind === 'array' ? ']' : ''}]`;
    if (!root || !this.knownRoot(root, `Unknown table ${header}`)) return;
    if (table.kind === 'array') {
      this.report('error', 'bad-type', `${header} is an array of tables; write [${root.name}${second ? `.${second.name}` : ''}] instead`, table.key);
      return;
    }
    if (root.name === 'tools') {
      if (second) return this.toolNotString(second, 'a table');
    } else if (second) {
      const draft = this.declareArtifact(second, this.headerRange(table), table.range);
      if (third) return this.artifactFieldNotString(draft, third, 'a table');
    }
    for (const keyValue of table.body) this.readKeyValue(path, keyValue);
  }

  private readKeyValue(prefix: Segment[], keyValue: AST.TOMLKeyValue): void {
    const path = [...prefix, ...segmentsOf(keyValue.key)];
    const [root, second, third, fourth] = path;
    if (!root || !this.knownRoot(root, `Unknown key "${root.name}"`)) return;
    const value = keyValue.value;
    const isTable = value.type === 'TOMLInlineTable';
    if (!second) {
      if (isTable) for (const inner of value.body) this.readKeyValue(path, inner);
      else this.report('error', 'bad-type', `"${root.name}" must be a table, like [${root.name}]`, keyValue);
      return;
    }
    if (root.name === 'tools') {
      if (third) return this.toolNotString(second, 'a table');
      return this.readTool(second, keyValue);
    }
    const draft = this.declareArtifact(second, this.rangeOf(keyValue.key), keyValue.range);
    if (!third) {
      if (isTable) for (const inner of value.body) this.readKeyValue(path, inner);
      else {
        draft.notATable = true;
        this.report('error', 'bad-type', `Artifact "${second.name}" must be a table with url and sha256`, value);
      }
      return;
    }
    if (fourth) return this.artifactFieldNotString(draft, third, 'a table');
    const field = ARTIFACT_FIELDS.find((known) => known === third.name);
    if (!field) return this.unknownArtifactKey(draft, third);
    draft.fields[field] = { value, ranges: this.keyValueRanges(keyValue) };
  }

  private knownRoot(root: Segment, what: string): boolean {
    if (root.name === 'tools' || root.name === 'artifacts') return true;
    this.report('warning', 'unknown-key', `${what}: qm.toml reads only [tools] and [artifacts.<name>]; this is ignored`, root.node);
    return false;
  }

  private readTool(name: Segment, keyValue: AST.TOMLKeyValue): void {
    const value = keyValue.value;
    if (!this.knownTool(name)) return;
    if (value.type === 'TOMLInlineTable' && isGithubTool(name.name)) return this.readGithubTool(name, keyValue, value);
    if (value.type !== 'TOMLValue' || value.kind !== 'string') {
      this.toolNotString(name, describeValue(value), value);
      return;
    }
    this.tools.push({
      name: name.name,
      spec: value.value,
      nameRange: this.rangeOf(name.node),
      specRange: this.rangeOf(value),
      entryRange: this.rangeOf(keyValue),
    });
    const problem = toolSpecProblem(name.name, value.value);
    if (problem) this.report('error', 'bad-spec', problem, value);
  }

  /** `"github:owner/repo" = { version = "1.2.3", asset = "..." | { "linux-x64" = "..." }, bin = "...", checksums = "..." }`. */
  private readGithubTool(name: Segment, keyValue: AST.TOMLKeyValue, table: AST.TOMLInlineTable): void {
    const options: ToolOptions = {};
    let version: AST.TOMLStringValue | undefined;
    for (const inner of table.body) {
      const [key, extra] = segmentsOf(inner.key);
      const value = inner.value;
      const isString = value.type === 'TOMLValue' && value.kind === 'string';
      if (!key || extra) continue;
      if (key.name === 'version' && isString) version = value;
      else if ((key.name === 'bin' || key.name === 'checksums' || key.name === 'asset') && isString) options[key.name] = value.value;
      else if (key.name === 'asset' && value.type === 'TOMLInlineTable') {
        const perPlatform: Record<string, string> = {};
        for (const entry of value.body) {
          const [platform] = segmentsOf(entry.key);
          if (platform && entry.value.type === 'TOMLValue' && entry.value.kind === 'string') perPlatform[platform.name] = entry.value.value;
          else this.report('error', 'bad-spec', `asset for "${name.name}" maps platforms ("linux-x64", "darwin-arm64", ...) to asset names`, entry);
        }
        options.asset = perPlatform;
      } else if (['version', 'bin', 'checksums', 'asset'].includes(key.name)) {
        this.report('error', 'bad-spec', `${key.name} for "${name.name}" must be a string (got ${describeValue(value)})`, value);
      } else {
        this.report('warning', 'unknown-key', `Unknown key "${key.name}" for "${name.name}": a GitHub release takes version, asset, bin and checksums; this is ignored`, key.node);
      }
    }
    if (!version) {
      this.report('error', 'bad-spec', `"${name.name}" needs a version: { version = "1.2.3", ... }`, table);
      return;
    }
    this.tools.push({
      name: name.name,
      spec: version.value,
      nameRange: this.rangeOf(name.node),
      specRange: this.rangeOf(version),
      entryRange: this.rangeOf(keyValue),
      options,
    });
    const problem = toolSpecProblem(name.name, version.value);
    if (problem) this.report('error', 'bad-spec', problem, version);
  }

  private knownTool(name: Segment): boolean {
    if (isKnownTool(name.name)) return true;
    this.report('warning', 'unknown-tool', unknownToolMessage(name.name), name.node);
    return false;
  }

  private toolNotString(name: Segment, got: string, at: AST.TOMLNode = name.node): void {
    if (at === name.node && !this.knownTool(name)) return;
    this.report('error', 'bad-spec', `The version of tool "${name.name}" must be a string, like ${name.name} = "${exampleVersion(name.name)}" (got ${got})`, at);
  }

  private declareArtifact(name: Segment, headerRange: SourceRange, span: AST.Range): ArtifactDraft {
    let draft = this.artifacts.get(name.name);
    if (!draft) {
      draft = { name: name.name, headerRange, nameRange: this.rangeOf(name.node), start: span[0], end: span[1], fields: {}, tableFields: new Set() };
      this.artifacts.set(name.name, draft);
    }
    draft.start = Math.min(draft.start, span[0]);
    draft.end = Math.max(draft.end, span[1]);
    return draft;
  }

  private artifactFieldNotString(draft: ArtifactDraft, field: Segment, got: string): void {
    const known = ARTIFACT_FIELDS.find((name) => name === field.name);
    if (!known) return this.unknownArtifactKey(draft, field);
    draft.tableFields.add(known);
    this.report('error', FIELD_CODES[known], `${known} for artifact "${draft.name}" must be a string (got ${got})`, field.node);
  }

  private unknownArtifactKey(draft: ArtifactDraft, key: Segment): void {
    this.report(
      'warning',
      'unknown-key',
      `Unknown key "${key.name}" in artifact "${draft.name}": an artifact has url, sha256 and dest; this is ignored`,
      key.node,
    );
  }

  /** Checks every artifact's fields now that all its keys are known. */
  finishArtifacts(): ArtifactEntry[] {
    const dests = new Map<string, string>();
    return [...this.artifacts.values()].map((draft) => {
      const url = this.stringField(draft, 'url', urlProblem);
      const sha256 = this.stringField(draft, 'sha256', sha256Problem);
      const dest = this.stringField(draft, 'dest', destProblem);
      const entry: ArtifactEntry = {
        name: draft.name,
        url: url ?? '',
        sha256: sha256?.toLowerCase() ?? '',
        headerRange: draft.headerRange,
        nameRange: draft.nameRange,
        entryRange: this.lines.range(draft.start, draft.end),
        fields: {},
      };
      if (dest !== undefined) entry.dest = dest;
      for (const field of ARTIFACT_FIELDS) {
        const found = draft.fields[field];
        if (found) entry.fields[field] = found.ranges;
      }
      const destValue = draft.fields.dest?.value;
      if (dest !== undefined && destValue && !destProblem(dest)) {
        const key = normalizeProjectPath(dest);
        const first = dests.get(key);
        if (first === undefined) dests.set(key, draft.name);
        else this.report('error', 'duplicate', `dest for artifact "${draft.name}" is also the dest of artifact "${first}": each artifact needs its own file`, destValue);
      }
      return entry;
    });
  }

  /** The field's string value (undefined if missing or not a string), reporting what is wrong. */
  private stringField(draft: ArtifactDraft, field: ArtifactField, check: (value: string) => string | undefined): string | undefined {
    const found = draft.fields[field];
    if (!found) {
      if (field !== 'dest' && draft.notATable !== true && !draft.tableFields.has(field)) {
        const example = field === 'url' ? 'url = "https://..."' : 'sha256 = "<64 hexadecimal characters>"';
        this.reportRange('error', 'missing-key', `Artifact "${draft.name}" has no ${field}: add ${example}`, draft.headerRange);
      }
      return undefined;
    }
    const value = found.value;
    if (value.type !== 'TOMLValue' || value.kind !== 'string') {
      this.report('error', FIELD_CODES[field], `${field} for artifact "${draft.name}" must be a string (got ${describeValue(value)})`, value);
      return undefined;
    }
    const problem = check(value.value);
    if (problem) this.report('error', FIELD_CODES[field], `${field} for artifact "${draft.name}" ${problem}`, value);
    return value.value;
  }

  /** `[artifacts.name]` from the opening to the closing bracket. */
  private headerRange(table: AST.TOMLTable): SourceRange {
    const close = this.lines.text.indexOf(']', table.key.range[1]);
    const end = close < 0 ? table.key.range[1] : close + 1;
    return this.lines.range(table.range[0], end);
  }

  private keyValueRanges(keyValue: AST.TOMLKeyValue): KeyValueRanges {
    return { keyRange: this.rangeOf(keyValue.key), valueRange: this.rangeOf(keyValue.value), entryRange: this.rangeOf(keyValue) };
  }

  private rangeOf(node: AST.HasLocs): SourceRange {
    return this.lines.range(node.range[0], node.range[1]);
  }

  private report(severity: ManifestProblem['severity'], code: ProblemCode, message: string, node: AST.HasLocs): void {
    this.reportRange(severity, code, message, this.rangeOf(node));
  }

  private reportRange(severity: ManifestProblem['severity'], code: ProblemCode, message: string, range: SourceRange): void {
    this.problems.push({ severity, code, message, range });
  }
}

function segmentsOf(key: AST.TOMLKey): Segment[] {
  return key.keys.map((node) => ({ name: node.type === 'TOMLBare' ? node.name : node.value, node }));
}

function describeValue(value: AST.TOMLContentNode): string {
  if (value.type === 'TOMLArray') return 'an array';
  if (value.type === 'TOMLInlineTable') return 'a table';
  const kind = value.kind.replaceAll('-', ' ');
  return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;
}
