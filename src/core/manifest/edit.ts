import { QmError } from '../errors';
import { LineIndex } from './line-index';
import { parseTomlStrict, type AST } from './toml-parser';
import type { SourceRange } from './types';

/** 0-based, character counted in UTF-16 code units: an LSP `Position`. */
export interface TextPosition {
  line: number;
  character: number;
}

/** An LSP `TextEdit`: replace `range` with `newText`. */
export interface TextEdit {
  range: { start: TextPosition; end: TextPosition };
  newText: string;
}

/** The same edit by offsets into the text. */
interface OffsetEdit {
  start: number;
  end: number;
  newText: string;
}

/**
 * Sets `tool`'s version in qm.toml text, changing nothing else: an existing value is replaced
 * in its quoting style (also under a dotted key or in an inline table); otherwise the key is
 * added after the last key of [tools], or a [tools] table is appended. The spec is written as
 * given; validate it first. Throws EMANIFEST when the text is not valid TOML or `tools` /
 * `tools.<tool>` is defined as something a version cannot be put in.
 */
export function setToolSpec(text: string, tool: string, spec: string): string {
  return applyOffsetEdit(text, toolSpecOffsetEdit(text, tool, spec));
}

/** `setToolSpec` as one LSP text edit. */
export function toolSpecEdit(text: string, tool: string, spec: string): TextEdit {
  return toTextEdit(new LineIndex(text), toolSpecOffsetEdit(text, tool, spec));
}

/**
 * Removes what a problem's range points into: a key/value's whole line(s), a whole table when
 * the range is in its header, or one key/value of an inline table. Text that does not parse
 * loses the lines the range spans.
 */
export function removeKey(text: string, range: SourceRange): string {
  return applyOffsetEdit(text, removeKeyOffsetEdit(text, range));
}

/** `removeKey` as one LSP text edit. */
export function removeKeyEdit(text: string, range: SourceRange): TextEdit {
  return toTextEdit(new LineIndex(text), removeKeyOffsetEdit(text, range));
}

/** Applies an LSP text edit made against `text`. */
export function applyTextEdit(text: string, edit: TextEdit): string {
  const lines = new LineIndex(text);
  const offset = (position: TextPosition): number => Math.min(lines.lineStart(position.line) + position.character, text.length);
  return applyOffsetEdit(text, { start: offset(edit.range.start), end: offset(edit.range.end), newText: edit.newText });
}

function toolSpecOffsetEdit(text: string, tool: string, spec: string): OffsetEdit {
  const lines = new LineIndex(text);
  const program = parseForEdit(text, lines);
  const eol = lineEnding(text);
  const key = tomlKey(tool);
  let toolsTable: AST.TOMLTable | undefined;
  let lastDotted: AST.TOMLKeyValue | undefined;
  for (const item of program.body[0].body) {
    const names = keyNames(item.key);
    if (names[0] !== 'tools') continue;
    if (item.type === 'TOMLTable') {
      if (names.length === 1 && item.kind === 'standard') toolsTable = item;
      else if (names[1] === tool || item.kind === 'array') throw cannotEdit(lines, item, `[${names.join('.')}] is a table, not a version`);
      continue;
    }
    if (names.length === 1) {
      if (item.value.type !== 'TOMLInlineTable') throw cannotEdit(lines, item, '"tools" is not a table');
      return inlineTableEdit(item.value, tool, spec);
    }
    if (names[1] !== tool) {
      lastDotted = item;
      continue;
    }
    if (names.length > 2) throw cannotEdit(lines, item, `tools.${tool} is a table, not a version`);
    return replaceValue(item.value, spec);
  }
  if (toolsTable) {
    for (const keyValue of toolsTable.body) {
      const names = keyNames(keyValue.key);
      if (names[0] !== tool) continue;
      if (names.length > 1) throw cannotEdit(lines, keyValue, `tools.${tool} is a table, not a version`);
      return replaceValue(keyValue.value, spec);
    }
    const last = toolsTable.body[toolsTable.body.length - 1];
    const header = lines.lineOf(toolsTable.key.range[1]);
    return insertAfterLine(lines, last ? lines.lineOf(last.range[1]) : header, `${indentOf(lines, last ?? toolsTable)}${key} = ${stringLiteral(spec)}`, eol);
  }
  if (lastDotted) {
    return insertAfterLine(lines, lines.lineOf(lastDotted.range[1]), `${indentOf(lines, lastDotted)}tools.${key} = ${stringLiteral(spec)}`, eol);
  }
  return appendTable(text, `[tools]${eol}${key} = ${stringLiteral(spec)}${eol}`, eol);
}

function inlineTableEdit(table: AST.TOMLInlineTable, tool: string, spec: string): OffsetEdit {
  const existing = table.body.find((keyValue) => keyNames(keyValue.key)[0] === tool);
  if (existing) return replaceValue(existing.value, spec);
  const entry = `${tomlKey(tool)} = ${stringLiteral(spec)}`;
  const last = table.body[table.body.length - 1];
  if (last) return { start: last.range[1], end: last.range[1], newText: `, ${entry}` };
  return { start: table.range[0], end: table.range[1], newText: `{ ${entry} }` };
}

function replaceValue(value: AST.TOMLContentNode, spec: string): OffsetEdit {
  const literal = value.type === 'TOMLValue' && value.kind === 'string' && value.style === 'literal';
  return { start: value.range[0], end: value.range[1], newText: stringLiteral(spec, literal) };
}

/** A new line after `line` (and its trailing comment), keeping a missing final line break missing. */
function insertAfterLine(lines: LineIndex, line: number, content: string, eol: string): OffsetEdit {
  const end = lines.lineEndWithBreak(line);
  if (end === lines.lineEnd(line)) return { start: end, end, newText: `${eol}${content}` };
  return { start: end, end, newText: `${content}${eol}` };
}

/** Appends a table at the end, separated from what comes before by one blank line. */
function appendTable(text: string, table: string, eol: string): OffsetEdit {
  const content = text.trimEnd();
  if (content === '') return { start: text.length, end: text.length, newText: table };
  const breaks = (text.slice(content.length).match(/\r\n|\r|\n/g) ?? []).length;
  const separation = eol.repeat(Math.max(0, 2 - breaks));
  return { start: text.length, end: text.length, newText: `${separation}${table}` };
}

function removeKeyOffsetEdit(text: string, range: SourceRange): OffsetEdit {
  const lines = new LineIndex(text);
  const offset = range.start.offset;
  let program: AST.TOMLProgram | undefined;
  try {
    program = parseTomlStrict(text);
  } catch {
    program = undefined;
  }
  for (const item of program?.body[0].body ?? []) {
    if (item.type === 'TOMLTable') {
      if (offset >= item.range[0] && offset <= item.key.range[1]) {
        return removeLines(lines, lines.lineOf(item.range[0]), lines.lineOf(item.range[1]));
      }
      const keyValue = item.body.find((candidate) => within(candidate.range, offset));
      if (keyValue) return removeKeyValue(lines, keyValue, offset);
    } else if (within(item.range, offset)) {
      return removeKeyValue(lines, item, offset);
    }
  }
  return removeLines(lines, lines.lineOf(offset), lines.lineOf(Math.max(offset, range.end.offset - 1)));
}

function removeKeyValue(lines: LineIndex, keyValue: AST.TOMLKeyValue, offset: number): OffsetEdit {
  const value = keyValue.value;
  if (value.type === 'TOMLInlineTable' && within(value.range, offset)) {
    const index = value.body.findIndex((inner) => within(inner.range, offset));
    const inner = value.body[index];
    if (inner) {
      if (inner.value.type === 'TOMLInlineTable' && within(inner.value.range, offset)) return removeKeyValue(lines, inner, offset);
      const next = value.body[index + 1];
      const previous = value.body[index - 1];
      if (next) return { start: inner.range[0], end: next.range[0], newText: '' };
      if (previous) return { start: previous.range[1], end: inner.range[1], newText: '' };
      return { start: value.range[0], end: value.range[1], newText: '{}' };
    }
  }
  return removeLines(lines, lines.lineOf(keyValue.range[0]), lines.lineOf(keyValue.range[1]));
}

/**
 * Removes whole lines; on the last line without a final break, the break before it goes. A
 * blank line after them goes too when a blank line (or the file's start) precedes them, so
 * no double blank line is left behind.
 */
function removeLines(lines: LineIndex, first: number, last: number): OffsetEdit {
  const blank = (line: number): boolean => lines.text.slice(lines.lineStart(line), lines.lineEnd(line)).trim() === '';
  if (last + 1 < lines.lineCount - 1 && blank(last + 1) && (first === 0 || blank(first - 1))) last++;
  const end = lines.lineEndWithBreak(last);
  const start = end === lines.lineEnd(last) && first > 0 ? lines.lineEnd(first - 1) : lines.lineStart(first);
  return { start, end, newText: '' };
}

function within(range: AST.Range, offset: number): boolean {
  return offset >= range[0] && offset < range[1];
}

function parseForEdit(text: string, lines: LineIndex): AST.TOMLProgram {
  try {
    return parseTomlStrict(text);
  } catch (error) {
    const index = (error as { index?: unknown }).index;
    const at = lines.position(typeof index === 'number' ? index : 0);
    const reason = error instanceof Error ? error.message : String(error);
    throw new QmError('EMANIFEST', `Cannot edit qm.toml while it has a syntax error at ${at.line}:${at.column}: ${reason}`, {
      line: at.line,
      column: at.column,
      cause: error,
    });
  }
}

function cannotEdit(lines: LineIndex, node: AST.HasLocs, why: string): QmError {
  const at = lines.position(node.range[0]);
  return new QmError('EMANIFEST', `Cannot set a version here: ${why} (line ${at.line})`, { line: at.line, column: at.column });
}

function keyNames(key: AST.TOMLKey): string[] {
  return key.keys.map((node) => (node.type === 'TOMLBare' ? node.name : node.value));
}

function indentOf(lines: LineIndex, node: AST.HasLocs): string {
  const start = lines.lineStart(lines.lineOf(node.range[0]));
  const prefix = lines.text.slice(start, node.range[0]);
  return /^[ \t]*$/.test(prefix) ? prefix : '';
}

/** The file's first line break, so added lines match it; "\n" for a one-line file. */
function lineEnding(text: string): string {
  const match = /\r\n|\n|\r/.exec(text);
  return match ? match[0] : '\n';
}

function tomlKey(name: string): string {
  return /^[A-Za-z0-9_-]+$/.test(name) ? name : stringLiteral(name);
}

const SHORT_ESCAPES = new Map([
  ['"', '\\"'],
  ['\\', '\\\\'],
  ['\b', '\\b'],
  ['\t', '\\t'],
  ['\n', '\\n'],
  ['\f', '\\f'],
  ['\r', '\\r'],
]);

/** A single-line TOML string: literal ('...') when asked for and possible, basic otherwise. */
function stringLiteral(value: string, preferLiteral = false): string {
  // eslint-disable-next-line no-control-regex
  if (preferLiteral && !/['\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) return `'${value}'`;
  // eslint-disable-next-line no-control-regex
  const escaped = value.replace(/["\\\u0000-\u001f\u007f]/g, (char) => SHORT_ESCAPES.get(char) ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `"${escaped}"`;
}

function applyOffsetEdit(text: string, edit: OffsetEdit): string {
  return text.slice(0, edit.start) + edit.newText + text.slice(edit.end);
}

function toTextEdit(lines: LineIndex, edit: OffsetEdit): TextEdit {
  const position = (offset: number): TextPosition => {
    const at = lines.position(offset);
    return { line: at.line - 1, character: at.column - 1 };
  };
  return { range: { start: position(edit.start), end: position(edit.end) }, newText: edit.newText };
}
