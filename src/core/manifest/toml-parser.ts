import type * as TomlParserModule from 'toml-eslint-parser' with { 'resolution-mode': 'import' };
import type { LineIndex } from './line-index';

export type { AST } from 'toml-eslint-parser' with { 'resolution-mode': 'import' };
type Program = ReturnType<typeof TomlParserModule.parseTOML>;

// toml-eslint-parser ships only ESM; Node 20.19+ can require() it and esbuild bundles the literal
// require. tsconfig's module "node16" cannot type an ESM import from CommonJS, hence the cast.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parser = require('toml-eslint-parser') as typeof TomlParserModule;

/** One TOML syntax error, at an offset into the text that was parsed. */
export interface TomlSyntaxError {
  start: number;
  end: number;
  message: string;
  /** The key defined twice, when that is the error. */
  duplicateKey?: string;
}

export interface TolerantParse {
  /** Undefined when the text could not be recovered into a tree. */
  program?: Program;
  errors: TomlSyntaxError[];
  /** Offsets of placeholder table headers put in place of broken ones; their tables mean nothing. */
  placeholderTables: Set<number>;
}

const DUPLICATE_KEY_MESSAGE = 'Defining a key multiple times is invalid';
// What the parser says when a table header's key runs on to the next line.
const KEY_RUNS_ON_MESSAGES = new Set(['The key, equals sign, and value must be on the same line', 'Unterminated table-key']);
const UNCLOSED_HEADER_MESSAGE = 'This table header has no closing "]"';
const MISSING_VALUE_MESSAGE = 'No value after "=": write one, such as "22"';
// Enough to show everything a person is fixing at once; each costs a full re-parse, so large
// files get fewer (parsing 1 MB takes about a second).
const MAX_SYNTAX_ERRORS = 10;
const RECOVERY_BUDGET_CHARS = 4_000_000;

/** Parses TOML or throws the parser's error (which carries `index`). */
export function parseTomlStrict(text: string): Program {
  return parser.parseTOML(maskByteOrderMark(text));
}

/**
 * Parses TOML without throwing. The parser stops at the first error, so after each error the
 * offending line is replaced (offsets unchanged) and parsing starts over: the rest of the file
 * still yields a tree and further errors, as an editor wants while someone types. A broken
 * table header becomes a placeholder header, so the keys below it do not land in the table
 * above; any other line becomes blank.
 */
export function parseTomlTolerant(text: string, lines: LineIndex): TolerantParse {
  const errors: TomlSyntaxError[] = [];
  const placeholderTables = new Set<number>();
  const maxErrors = Math.max(1, Math.min(MAX_SYNTAX_ERRORS, Math.floor(RECOVERY_BUDGET_CHARS / Math.max(1, text.length))));
  let source: string | undefined = maskByteOrderMark(text);
  while (source !== undefined) {
    try {
      return { program: parser.parseTOML(source), errors, placeholderTables };
    } catch (error) {
      if (!(error instanceof parser.ParseError)) {
        // Not a syntax error (e.g. stack exhaustion on absurd nesting): report, give up on a tree.
        const reason = error instanceof Error ? error.message : String(error);
        errors.push({ start: 0, end: 0, message: `The file could not be parsed: ${reason}` });
        break;
      }
      const errorLine = lines.lineOf(Math.min(error.index, text.length));
      const headerLine = unclosedHeaderAbove(source, lines, errorLine, error.message);
      const dangling: { line: number; equals: number } | undefined = headerLine === undefined ? danglingEqualsAbove(source, lines, errorLine, Math.min(error.index, text.length)) : undefined;
      if (headerLine !== undefined) errors.push({ start: lines.lineStart(headerLine) + leadingSpace(source, lines, headerLine), end: lines.lineEnd(headerLine), message: UNCLOSED_HEADER_MESSAGE });
      else if (dangling !== undefined) errors.push({ start: dangling.equals, end: dangling.equals + 1, message: MISSING_VALUE_MESSAGE });
      else errors.push(describeSyntaxError(text, lines, error.index, error.message));
      source = errors.length < maxErrors ? replaceLine(source, lines, headerLine ?? dangling?.line ?? errorLine, placeholderTables) : undefined;
    }
  }
  return { errors, placeholderTables };
}

/**
 * The source with a broken line neutralised: a header becomes a placeholder header `[n]` (digits
 * are bare keys, one per error, so they stay distinct), anything else becomes spaces. Undefined
 * when the line was already neutralised, so no progress is possible.
 */
function replaceLine(source: string, lines: LineIndex, line: number, placeholderTables: Set<number>): string | undefined {
  const start = lines.lineStart(line);
  const end = lines.lineEnd(line);
  const content = source.slice(start, end);
  if (content.trim() === '' || placeholderTables.has(start)) return undefined;
  const placeholder = `[${placeholderTables.size}]`;
  const isHeader = content.trimStart().startsWith('[') && content.length >= placeholder.length;
  if (isHeader) placeholderTables.add(start);
  return source.slice(0, start) + (isHeader ? placeholder.padEnd(content.length) : ' '.repeat(content.length)) + source.slice(end);
}

/**
 * The parser reads a header such as `[artifacts.x` on into the following lines and complains
 * there. The line to blame is the nearest line above, past blank and comment lines, when it
 * opens a header it never closes.
 */
function unclosedHeaderAbove(source: string, lines: LineIndex, errorLine: number, message: string): number | undefined {
  if (!KEY_RUNS_ON_MESSAGES.has(message)) return undefined;
  for (let line = errorLine - 1; line >= 0; line--) {
    const content = source.slice(lines.lineStart(line), lines.lineEnd(line)).trim();
    if (content === '' || content.startsWith('#')) continue;
    return content.startsWith('[') && !content.includes(']') ? line : undefined;
  }
  return undefined;
}

/**
 * `python =` with its value not typed yet: the parser reads on into the next line and blames
 * that line (which recovery would then blank, taking a good key away). When the error is at
 * the start of a line (or the end of the text) and the nearest line above, past blank and
 * comment lines, ends in "=" (before any comment), that line is the one to blame.
 */
function danglingEqualsAbove(source: string, lines: LineIndex, errorLine: number, index: number): { line: number; equals: number } | undefined {
  if (source.slice(lines.lineStart(errorLine), index).trim() !== '') return undefined;
  for (let line = index >= source.length && source.slice(lines.lineStart(errorLine)).trim() === '' ? errorLine : errorLine - 1; line >= 0; line--) {
    const start = lines.lineStart(line);
    const content = source.slice(start, lines.lineEnd(line));
    if (content.trim() === '' || content.trim().startsWith('#')) continue;
    // A comment can only start outside a string, and a line with no value has no string.
    const code = /["']/.test(content) ? content : content.replace(/#.*$/, '');
    const trimmed = code.trimEnd();
    return trimmed.endsWith('=') && !trimmed.trimStart().startsWith('[') ? { line, equals: start + trimmed.length - 1 } : undefined;
  }
  return undefined;
}

function leadingSpace(source: string, lines: LineIndex, line: number): number {
  const content = source.slice(lines.lineStart(line), lines.lineEnd(line));
  return content.length - content.trimStart().length;
}

/** A byte-order mark is not TOML whitespace to the parser; a space keeps every offset in place. */
function maskByteOrderMark(text: string): string {
  return text.startsWith('\uFEFF') ? ` ${text.slice(1)}` : text;
}

function describeSyntaxError(text: string, lines: LineIndex, index: number, message: string): TomlSyntaxError {
  const start = Math.max(0, Math.min(index, text.length));
  const lineEnd = lines.lineEnd(lines.lineOf(start));
  if (message === DUPLICATE_KEY_MESSAGE) {
    const end = keyTokenEnd(text, start, lineEnd);
    return { start, end, message, duplicateKey: unquote(text.slice(start, end)) };
  }
  const codePoint = text.codePointAt(start);
  const width = codePoint === undefined ? 0 : codePoint > 0xffff ? 2 : 1;
  return { start, end: Math.min(start + width, lineEnd), message };
}

/** End of the bare or quoted key starting at `start`. */
function keyTokenEnd(text: string, start: number, lineEnd: number): number {
  const quote = text[start];
  if (quote === '"' || quote === "'") {
    let i = start + 1;
    while (i < lineEnd && text[i] !== quote) i += quote === '"' && text[i] === '\\' ? 2 : 1;
    return Math.min(i + 1, lineEnd);
  }
  let i = start;
  while (i < lineEnd && /[A-Za-z0-9_-]/.test(text.charAt(i))) i++;
  return i;
}

function unquote(key: string): string {
  return /^(["']).*\1$/s.test(key) ? key.slice(1, -1) : key;
}

/** A parsed document as plain values (tables become objects). */
export function tomlValueOf(program: Program): unknown {
  return parser.getStaticTOMLValue(program);
}
