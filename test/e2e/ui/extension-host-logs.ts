/**
 * The Quartermaster log of each extension host the VS Code server started (one per window:
 * <logs>/<session>/exthostN/quartermaster.quartermaster/Quartermaster.log), read as the output
 * channel writes it: `2026-12-07 03:10:25.123 [info] message`, in this machine's local time.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { whenFile } from './file-watch';

export interface LogLine {
  /** Milliseconds since the epoch, from the line's timestamp. */
  time: number;
  text: string;
}

/** Every Quartermaster.log under the server's logs directory, oldest extension host first. */
export async function quartermasterLogs(logsDir: string): Promise<string[]> {
  const names = (await fs.readdir(logsDir, { recursive: true }).catch(() => [] as string[])).filter((name) => /(^|\/)Quartermaster\.log$/.test(name));
  const withHost = names.map((name) => ({ file: path.join(logsDir, name), host: Number(/exthost(\d+)/.exec(name)?.[1] ?? 0) }));
  return withHost.sort((a, b) => a.host - b.host).map((entry) => entry.file);
}

/** The first line matching `pattern`, once the log has it (re-read on every change of its directory). */
export async function whenLogLine(file: string, pattern: RegExp, signal: AbortSignal): Promise<LogLine> {
  const text = await whenFile(file, (content) => content.split('\n').some((line) => pattern.test(line)), signal);
  return parseLine(text.split('\n').find((line) => pattern.test(line))!);
}

/** Every line of the log now. */
export async function logLines(file: string): Promise<LogLine[]> {
  const text = await fs.readFile(file, 'utf8');
  return text.split('\n').filter((line) => /^\d{4}-/.test(line)).map(parseLine);
}

function parseLine(line: string): LogLine {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}\.\d{3}) (.*)$/.exec(line);
  if (!match) throw new Error(`not a log line: ${line}`);
  return { time: new Date(`${match[1]}T${match[2]}`).getTime(), text: match[3]! };
}
