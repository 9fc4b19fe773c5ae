/**
 * Where the cursor is in qm.toml text, read from the text around it rather than from the parse
 * tree: while someone types `node = "2` the line is not valid TOML yet, and the parser (which
 * blanks broken lines to recover) no longer sees it.
 */
export type CursorContext =
  /** A key in [tools] (or after `tools.` at the top level): a tool name. */
  | { kind: 'tool-name'; start: number; end: number; valueFollows: boolean }
  /** The value of `tool = ...`: a version spec, inside quotes or not yet quoted. */
  | { kind: 'tool-version'; tool: string; start: number; end: number; quoted: boolean }
  /** A key in [artifacts.<name>]. */
  | { kind: 'artifact-key'; start: number; end: number; valueFollows: boolean }
  | { kind: 'none' };

const KEY_PREFIX = /^\s*([A-Za-z0-9_-]*)$/;
const DOTTED_TOOL_PREFIX = /^\s*tools\s*\.\s*([A-Za-z0-9_-]*)$/;
const VALUE_PREFIX = /^\s*(tools\s*\.\s*)?(?:"([^"\\]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=\s*(["']?)([^"'\s]*)$/;
const HEADER = /^\s*\[\s*([^[\]#]*?)\s*\]/;
const WORD_CHAR = /[A-Za-z0-9_-]/;

export function cursorContext(text: string, offset: number): CursorContext {
  const lineStart = startOfLine(text, offset);
  const lineEnd = endOfLine(text, offset);
  const prefix = text.slice(lineStart, offset);
  const rest = text.slice(offset, lineEnd);
  const table = enclosingTable(text, lineStart);

  const value = VALUE_PREFIX.exec(prefix);
  if (value) {
    const dotted = value[1] !== undefined;
    if (!(dotted ? table.length === 0 : table.length === 1 && table[0] === 'tools')) return { kind: 'none' };
    const tool = value[2] ?? value[3] ?? value[4] ?? '';
    const quote = value[5] ?? '';
    const typed = value[6] ?? '';
    const close = quote === '' ? wordEnd(rest, /[^\s#"']/) : Math.max(0, rest.indexOf(quote));
    const end = quote !== '' && rest.indexOf(quote) < 0 ? offset + wordEnd(rest, /[^\s#]/) : offset + close;
    return { kind: 'tool-version', tool, start: offset - typed.length, end, quoted: quote !== '' };
  }

  const dottedKey = table.length === 0 ? DOTTED_TOOL_PREFIX.exec(prefix) : null;
  const key = dottedKey ?? KEY_PREFIX.exec(prefix);
  if (!key) return { kind: 'none' };
  const typed = key[1] ?? '';
  const end = offset + wordEnd(rest, WORD_CHAR);
  const valueFollows = /^\s*=/.test(text.slice(end, lineEnd));
  if (dottedKey || (table.length === 1 && table[0] === 'tools')) return { kind: 'tool-name', start: offset - typed.length, end, valueFollows };
  if (table.length === 2 && table[0] === 'artifacts') return { kind: 'artifact-key', start: offset - typed.length, end, valueFollows };
  return { kind: 'none' };
}

/**
 * The tools a qm.toml names, read line by line: a half-typed line elsewhere can stop the TOML
 * parser from seeing any of them, and completion must still leave them out.
 */
export function declaredTools(text: string): Set<string> {
  const tools = new Set<string>();
  let table: 'root' | 'tools' | 'other' = 'root';
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.trimStart().startsWith('[')) {
      table = HEADER.exec(line)?.[1] === 'tools' && !line.trimStart().startsWith('[[') ? 'tools' : 'other';
      continue;
    }
    const key = /^\s*(tools\s*\.\s*)?(?:"([^"\\]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=/.exec(line);
    const dotted = key?.[1] !== undefined;
    if (key && ((table === 'tools' && !dotted) || (table === 'root' && dotted))) tools.add(key[2] ?? key[3] ?? key[4] ?? '');
  }
  return tools;
}

/**
 * The key path of the table header above `lineStart` ([] at the top level; ['?'] under an array
 * of tables, which qm.toml does not use). Walks back one line at a time, so a cursor deep in a
 * large file costs one pass over the text above it.
 */
function enclosingTable(text: string, lineStart: number): string[] {
  let end = lineStart;
  while (end > 0) {
    const start = startOfLine(text, end - 1);
    const line = text.slice(start, end);
    if (line.trimStart().startsWith('[')) {
      const header = HEADER.exec(line);
      if (!header || line.trimStart().startsWith('[[')) return ['?'];
      return (header[1] ?? '').split('.').map((part) => part.trim().replace(/^(["'])(.*)\1$/, '$2'));
    }
    end = start;
  }
  return [];
}

/** Where the line holding `offset` starts (a break at `offset` itself belongs to the line before). */
function startOfLine(text: string, offset: number): number {
  let i = offset;
  while (i > 0) {
    const char = text.charCodeAt(i - 1);
    if (char === 0x0a || char === 0x0d) break;
    i--;
  }
  return i;
}

function endOfLine(text: string, offset: number): number {
  for (let i = offset; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === 0x0a || char === 0x0d) return i;
  }
  return text.length;
}

/** How many leading characters of `text` match `char`. */
function wordEnd(text: string, char: RegExp): number {
  let i = 0;
  while (i < text.length && char.test(text.charAt(i))) i++;
  return i;
}
