import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Duplex, PassThrough, Readable, type Writable } from 'node:stream';
import type { ReadableStreamDefaultReader } from 'node:stream/web';
import { XzReadableStream } from 'xz-decompress';
import { QmError } from '../errors';

const HIGH_WATER_MARK = 1024 * 1024;
const STDERR_LIMIT = 4096;

/**
 * A Duplex that decompresses xz: the system `xz` when there is one (several times faster on
 * compressible data), else the built-in WebAssembly decoder.
 * `command`: unset = `xz` from PATH, else WebAssembly; a path = that program; false = WebAssembly.
 */
export async function createXzDecoder(command: string | false | undefined): Promise<Duplex> {
  if (command === false) return new WasmXzDecoder();
  const program = command ?? (await findOnPath('xz'));
  if (program === undefined) return new WasmXzDecoder();
  try {
    return await XzProcessDecoder.start(program);
  } catch (error) {
    if (command === undefined) return new WasmXzDecoder();
    throw new QmError('EUSAGE', `Could not run xz at ${program}: ${(error as Error).message}`, { path: program, cause: error });
  }
}

async function findOnPath(name: string): Promise<string | undefined> {
  const file = process.platform === 'win32' ? `${name}.exe` : name;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, file);
    try {
      await fs.access(candidate, constants.X_OK);
      if ((await fs.stat(candidate)).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function corruptXz(detail: string, cause?: unknown): QmError {
  return new QmError('EARCHIVE', `The xz data is corrupt or not xz: ${detail}`, { cause });
}

/** `xz --decompress --stdout` as a Duplex; a non-zero exit becomes an EARCHIVE error, never a short read. */
class XzProcessDecoder extends Duplex {
  private stderr = '';
  private exited = false;

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, Readable>) {
    super({ readableHighWaterMark: HIGH_WATER_MARK, writableHighWaterMark: HIGH_WATER_MARK });
    child.stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout.pause();
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      if (this.stderr.length < STDERR_LIMIT) this.stderr += text;
    });
    // EPIPE when xz stops early: its exit status and message say why.
    child.stdin.on('error', () => undefined);
    child.on('close', (code, signal) => {
      this.exited = true;
      if (code === 0) this.push(null);
      else if (!this.destroyed) this.destroy(corruptXz(this.stderr.trim() || `xz exited with ${code ?? signal}`));
    });
  }

  /** Resolves once the process runs, so a missing or broken binary can still fall back. */
  static start(program: string): Promise<XzProcessDecoder> {
    // XZ_OPT/XZ_DEFAULTS from the environment must not change what xz does here.
    const env = { ...process.env, XZ_OPT: '', XZ_DEFAULTS: '' };
    const child = spawn(program, ['--decompress', '--stdout', '--memlimit-decompress=1GiB'], { env, stdio: 'pipe', windowsHide: true });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => {
        child.off('error', reject);
        child.on('error', () => undefined);
        resolve(new XzProcessDecoder(child));
      });
    });
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.exited || this.child.stdin.write(chunk)) callback();
    else this.child.stdin.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.child.stdin.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.child.stdin.destroy();
    this.child.stdout.destroy();
    if (this.exited) {
      callback(error);
      return;
    }
    // Wait for the exit so no process or pipe outlives the extraction.
    this.child.once('close', () => callback(error));
    this.child.kill();
  }
}

/**
 * xz-decompress's web stream as a Duplex. That library shares one lock between all its streams,
 * released only when a stream ends, errors or is cancelled after it started; so this never
 * cancels it: on destroy it fails the compressed input and reads the stream until it gives up.
 */
class WasmXzDecoder extends Duplex {
  private readonly input = new PassThrough({ highWaterMark: HIGH_WATER_MARK });
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private pumping = false;

  constructor() {
    super({ readableHighWaterMark: HIGH_WATER_MARK, writableHighWaterMark: HIGH_WATER_MARK });
    const compressed = Readable.toWeb(this.input) as ReadableStream<Uint8Array>;
    this.reader = new XzReadableStream(compressed).getReader();
  }

  override _read(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.pump();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.input.write(chunk)) callback();
    else this.input.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.input.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.input.destroy(new Error('xz input closed'));
    void drainQuietly(this.reader);
    callback(error);
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await this.reader.read();
        if (this.destroyed) return;
        if (done) {
          this.push(null);
          return;
        }
        if (value.byteLength > 0 && !this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength))) return;
      }
    } catch (error) {
      if (!this.destroyed) this.destroy(corruptXz((error as Error).message, error));
    } finally {
      this.pumping = false;
    }
  }
}

async function drainQuietly(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    while (!(await reader.read()).done) {
      // discard: the decoder releases its lock once it sees the failed input
    }
  } catch {
    // expected: the input was failed on purpose
  }
}
