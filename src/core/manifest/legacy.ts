import { dirname } from 'node:path';
import { LineIndex } from './line-index';
import { sortProblems } from './problems';
import { canonicalTool } from '../tools/catalog';
import { exampleVersion, toolSpecProblem, unknownToolMessage } from './known-tools';
import type { Manifest, ManifestProblem, ProblemCode, ProblemSeverity, ToolEntry } from './types';


interface Token {
  text: string;
  start: number;
  end: number;
}

/**
 * Reads asdf's `.tool-versions`: `tool version [fallback...]` per line, `#` comments. The first
 * version Quartermaster can install is used; asdf's `latest:22` and `lts-iron` are translated
 * to "22" and "lts/iron". Never throws.
 */
export function parseToolVersions(text: string, file: string): Manifest {
  const lines = new LineIndex(text);
  const problems: ManifestProblem[] = [];
  const tools: ToolEntry[] = [];
  const report = (severity: ProblemSeverity, code: ProblemCode, message: string, token: Token): void => {
    problems.push({ severity, code, message, range: lines.range(token.start, token.end) });
  };
  for (let line = 0; line < lines.lineCount; line++) {
    const tokens = tokensOf(text, lines.lineStart(line), lines.lineEnd(line), true);
    const [toolToken, ...versions] = tokens;
    if (!toolToken) continue;
    // asdf plugin names (and the short names mise also accepts): nodejs, golang, python, java, ...
    const tool = canonicalTool(toolToken.text);
    if (tool === undefined) {
      report('warning', 'unknown-tool', unknownToolMessage(toolToken.text), toolToken);
      continue;
    }
    const first = versions[0];
    if (!first) {
      report('error', 'bad-spec', `No version for ${toolToken.text}: write a line such as "${toolToken.text} ${exampleVersion(tool)}"`, toolToken);
      continue;
    }
    const usable = versions.map((token) => ({ token, spec: fromAsdf(token.text) })).find(({ spec }) => !toolSpecProblem(tool, spec));
    if (!usable) {
      report('error', 'bad-spec', asdfSpecProblem(tool, first.text), first);
      continue;
    }
    if (usable.token !== first) {
      report('information', 'bad-spec', `Quartermaster cannot install "${first.text}", so it uses the fallback "${usable.token.text}"`, first);
    }
    const earlier = tools.find((entry) => entry.name === tool);
    if (earlier) {
      report('warning', 'duplicate', `${toolToken.text} is already listed on line ${earlier.nameRange.start.line}; that line is used and this one ignored`, toolToken);
      continue;
    }
    const last = tokens[tokens.length - 1] ?? toolToken;
    tools.push({
      name: tool,
      spec: usable.spec,
      nameRange: lines.range(toolToken.start, toolToken.end),
      specRange: lines.range(usable.token.start, usable.token.end),
      entryRange: lines.range(toolToken.start, last.end),
    });
  }
  return { file, kind: '.tool-versions', dir: dirname(file), tools, artifacts: [], problems: sortProblems(problems) };
}

/**
 * Reads `.nvmrc` (`#` comments allowed) or `.node-version`: one Node.js version spec, which may
 * be "v22.11.0", "lts/*", "lts/iron" or "node". Never throws.
 */
export function parseNodeVersionFile(text: string, file: string, kind: '.nvmrc' | '.node-version'): Manifest {
  const lines = new LineIndex(text);
  const problems: ManifestProblem[] = [];
  const tools: ToolEntry[] = [];
  for (let line = 0; line < lines.lineCount; line++) {
    const tokens = tokensOf(text, lines.lineStart(line), lines.lineEnd(line), kind === '.nvmrc');
    const first = tokens[0];
    const last = tokens[tokens.length - 1];
    if (!first || !last) continue;
    const range = lines.range(first.start, last.end);
    if (tools.length > 0) {
      problems.push({ severity: 'warning', code: 'syntax', message: `${kind} holds one version; this line is ignored`, range });
      continue;
    }
    const spec = text.slice(first.start, last.end);
    tools.push({ name: 'node', spec, nameRange: range, specRange: range, entryRange: range });
    const problem = toolSpecProblem('node', spec);
    if (problem) problems.push({ severity: 'error', code: 'bad-spec', message: problem, range });
  }
  if (tools.length === 0) {
    problems.push({ severity: 'error', code: 'bad-spec', message: `${kind} names no version: write one such as "22" or "lts/*"`, range: lines.range(0, 0) });
  }
  return { file, kind, dir: dirname(file), tools, artifacts: [], problems: sortProblems(problems) };
}

/** Whitespace-separated words of one line, stopping at a `#` that starts a word. */
function tokensOf(text: string, start: number, end: number, comments: boolean): Token[] {
  const tokens: Token[] = [];
  const word = /\S+/g;
  word.lastIndex = start;
  // \S never matches a line break, so a word that starts on this line also ends on it.
  for (let match = word.exec(text); match && match.index < end; match = word.exec(text)) {
    if (comments && match[0].startsWith('#')) break;
    tokens.push({ text: match[0], start: match.index, end: match.index + match[0].length });
  }
  return tokens;
}

/** asdf's spellings that Quartermaster's version specs write differently. */
function fromAsdf(version: string): string {
  if (version.startsWith('latest:')) return version.slice('latest:'.length);
  // asdf-java and sdkman name a vendor first: temurin-21.0.5+11.0.LTS, 21.0.5-tem.
  const vendor = /^(?:temurin|adoptopenjdk|openjdk)-(\d.*)$/.exec(version) ?? /^(\d[\d.+]*)-tem$/.exec(version);
  if (vendor) return vendor[1]!;
  if (/^lts-[a-z]+$/i.test(version)) return `lts/${version.slice('lts-'.length)}`;
  return version;
}

function asdfSpecProblem(tool: string, version: string): string {
  if (version === 'system' || /^(ref|path):/.test(version)) {
    return `asdf's "${version}" cannot be installed by Quartermaster; write a version such as "${exampleVersion(tool)}"`;
  }
  return toolSpecProblem(tool, fromAsdf(version)) ?? `"${version}" is not a version Quartermaster can install`;
}
