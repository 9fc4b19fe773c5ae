import type { Position, Range } from 'vscode-languageserver/node';
import type { SourceRange } from '../core/manifest/types';

/** A parser range (1-based lines and columns) as LSP's (0-based; both count UTF-16 code units). */
export function toLspRange(range: SourceRange): Range {
  return {
    start: { line: range.start.line - 1, character: range.start.column - 1 },
    end: { line: range.end.line - 1, character: range.end.column - 1 },
  };
}

function before(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

/** Ranges that overlap or touch: a cursor at either end of a range is "on" it. */
export function rangesTouch(a: Range, b: Range): boolean {
  return !before(a.end, b.start) && !before(b.end, a.start);
}

export function sameRange(a: Range, b: Range): boolean {
  return a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;
}

/** True when `offset` lies in the range, its end included (a cursor just after a word is on it). */
export function containsOffset(range: SourceRange, offset: number): boolean {
  return offset >= range.start.offset && offset <= range.end.offset;
}
