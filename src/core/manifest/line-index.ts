import type { Position, SourceRange } from './types';

/**
 * Maps offsets to 1-based lines and columns. Lines end at "\n", "\r\n" or a lone "\r", the
 * same breaks LSP counts, so positions agree with the editor's.
 */
export class LineIndex {
  /** Offset of the first character of each line. */
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const char = text.charCodeAt(i);
      if (char === 0x0d && text.charCodeAt(i + 1) === 0x0a) i++;
      if (char === 0x0a || char === 0x0d) this.starts.push(i + 1);
    }
  }

  get lineCount(): number {
    return this.starts.length;
  }

  /** The position of an offset, clamped into the text. */
  position(offset: number): Position {
    const clamped = Math.max(0, Math.min(Math.trunc(offset), this.text.length));
    const line = this.lineOf(clamped);
    return { line: line + 1, column: clamped - this.lineStart(line) + 1, offset: clamped };
  }

  range(start: number, end: number): SourceRange {
    return { start: this.position(start), end: this.position(Math.max(start, end)) };
  }

  /** 0-based line holding `offset`. */
  lineOf(offset: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.lineStart(middle) <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /** Offset where 0-based `line` starts; lines past the end start at the end of the text. */
  lineStart(line: number): number {
    return this.starts[Math.max(0, line)] ?? this.text.length;
  }

  /** Offset where 0-based `line`'s content ends, before its line break. */
  lineEnd(line: number): number {
    const next = this.starts[line + 1];
    if (next === undefined) return this.text.length;
    return this.text.startsWith('\r\n', next - 2) ? next - 2 : next - 1;
  }

  /** Offset after `line`'s line break (the next line's start, or the end of the text). */
  lineEndWithBreak(line: number): number {
    return this.starts[line + 1] ?? this.text.length;
  }
}
