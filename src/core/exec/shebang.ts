import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** Linux reads this much of a file to find the `#!` line (BINPRM_BUF_SIZE); so do we. */
const SHEBANG_LIMIT = 256;

/** What a `#!` line asks to run: `interpreter ...args <script> ...scriptArgs`. */
export interface Shebang {
  /** A path, or a bare command name to look up on PATH when the line went through `env`. */
  interpreter: string;
  args: string[];
}

/**
 * Reads the `#!` line of `file`, or undefined when it has none, cannot be read, or the line does
 * not end within the first 256 bytes. Running scripts through their interpreter means the script
 * itself is never exec'd, so a script that is still open for writing somewhere cannot fail with
 * ETXTBSY.
 */
export async function readShebang(file: string): Promise<Shebang | undefined> {
  let head: Buffer;
  try {
    const handle = await fs.open(file, 'r');
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(SHEBANG_LIMIT), 0, SHEBANG_LIMIT, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    // Unreadable (a directory, mode 0o711, vanished): exec decides, and says why.
    return undefined;
  }
  return parseShebang(head);
}

/**
 * Parses the start of a file. Unlike Linux, which passes everything after the interpreter as one
 * argument, the rest of the line is split on blanks (as macOS and FreeBSD do), so `#!/bin/sh -e -x`
 * works everywhere. `#!/usr/bin/env [-S] cmd args` becomes `cmd args`, looked up on PATH by the
 * caller; env is kept when it has work of its own to do (options, NAME=value, quoting).
 */
export function parseShebang(head: Buffer): Shebang | undefined {
  if (head.length < 2 || head[0] !== 0x23 /* # */ || head[1] !== 0x21 /* ! */) return undefined;
  const newline = head.indexOf(0x0a);
  if (newline === -1 && head.length >= SHEBANG_LIMIT) return undefined;
  const line = head
    .subarray(2, newline === -1 ? head.length : newline)
    .toString('utf8')
    .replace(/\r$/, '')
    .trim();
  const [interpreter, ...args] = line.split(/[ \t]+/);
  if (interpreter === undefined || interpreter === '') return undefined;
  if (path.posix.basename(interpreter) === 'env') return unwrapEnv(interpreter, args, line);
  return { interpreter, args };
}

function unwrapEnv(env: string, args: string[], line: string): Shebang {
  const first = args[0];
  if (first !== undefined && first.startsWith('-S')) {
    // `env -S` splits its argument itself; keep that job to env when the text needs real parsing.
    const rest = line.slice(line.indexOf(first, env.length) + 2).trim();
    const words = rest === '' ? [] : rest.split(/[ \t]+/);
    if (/["'\\$]/.test(rest) || !isPlainCommand(words[0])) return { interpreter: env, args: ['-S', rest] };
    const [command, ...commandArgs] = words as [string, ...string[]];
    return { interpreter: command, args: commandArgs };
  }
  if (!isPlainCommand(first)) return { interpreter: env, args };
  const [command, ...commandArgs] = args as [string, ...string[]];
  return { interpreter: command, args: commandArgs };
}

/** A command env would run as is: not an option and not a NAME=value assignment. */
function isPlainCommand(word: string | undefined): boolean {
  return word !== undefined && word !== '' && !word.startsWith('-') && !word.includes('=');
}
