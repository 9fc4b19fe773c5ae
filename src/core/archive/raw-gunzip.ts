import { once } from 'node:events';
import { Transform, type TransformCallback } from 'node:stream';
import { createInflateRaw, type InflateRaw } from 'node:zlib';
import { QmError } from '../errors';

const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
/** A name or comment longer than this is not a gzip header any tool writes. */
const MAX_HEADER_BYTES = 64 * 1024;
const TRAILER_BYTES = 8;

/**
 * gunzip without the CRC-32 (about a third of zlib's time on a toolchain archive): the gzip
 * header is parsed here, the deflate data inflated raw, and each member's trailer checked for
 * the length (ISIZE) only. Only for bytes whose SHA-256 is checked before anything made from
 * them is published (StreamingExtraction hashes exactly the bytes it extracts): a corrupt byte
 * is then caught by the digest, and the CRC would catch nothing more. Concatenated members are
 * inflated one after another, as gunzip does; zero bytes after the last one are padding.
 */
export class RawGunzip extends Transform {
  /** header: reading one; body: inflating; trailer: reading one; between: after a trailer. */
  private phase: 'header' | 'body' | 'trailer' | 'between' = 'header';
  /** Bytes not yet handled: part of a header or trailer, or what follows a member's deflate data. */
  private held: Buffer = Buffer.alloc(0);
  private inflate: InflateRaw | undefined;
  /** Bytes written to the current member's inflater. */
  private fed = 0;
  private memberOutput = 0;
  private members = 0;

  constructor(private readonly chunkSize: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.held = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    this.process().then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.finishInput().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inflate?.destroy();
    callback(error);
  }

  /** Handles what is held as far as it goes; the rest waits for more input. */
  private async process(): Promise<void> {
    for (;;) {
      if (this.phase === 'header') {
        const length = headerLength(this.held);
        if (length === undefined) {
          if (this.held.length > MAX_HEADER_BYTES) throw corrupt('its gzip header is too long');
          return;
        }
        this.held = this.held.subarray(length);
        this.startMember();
      } else if (this.phase === 'body') {
        if (this.held.length === 0) return;
        const chunk = this.held;
        this.held = Buffer.alloc(0);
        await this.feed(chunk);
        if (this.phase === 'body') return;
      } else if (this.phase === 'trailer') {
        if (this.held.length < TRAILER_BYTES) return;
        const size = this.held.readUInt32LE(4);
        if (size !== this.memberOutput % 2 ** 32) throw corrupt(`a gzip member says it holds ${size} bytes (mod 2^32) but inflates to ${this.memberOutput}`);
        this.held = this.held.subarray(TRAILER_BYTES);
        this.phase = 'between';
      } else {
        // After a member: another one, or zero padding (as gunzip allows), nothing else.
        const start = this.held.findIndex((byte) => byte !== 0);
        if (start < 0) {
          this.held = Buffer.alloc(0);
          return;
        }
        if (this.held[start] !== 0x1f || (this.held.length > start + 1 && this.held[start + 1] !== 0x8b)) throw corrupt('bytes that are not gzip follow a member');
        this.held = this.held.subarray(start);
        this.phase = 'header';
      }
    }
  }

  private async finishInput(): Promise<void> {
    if (this.phase === 'body') {
      const inflate = this.inflate!;
      inflate.end();
      await memberEnd(inflate); // rejects when the deflate data is cut short
      this.endMember(inflate);
      await this.process();
    }
    if (this.phase === 'header') throw corrupt(this.members === 0 && this.held.length === 0 ? 'it is empty' : 'it ends inside a gzip header');
    if (this.phase === 'trailer') throw corrupt('it ends inside a gzip trailer');
  }

  private startMember(): void {
    this.phase = 'body';
    this.members++;
    this.memberOutput = 0;
    this.fed = 0;
    const inflate = createInflateRaw({ chunkSize: this.chunkSize });
    this.inflate = inflate;
    inflate.on('data', (data: Buffer) => {
      this.memberOutput += data.length;
      this.push(data);
    });
    inflate.on('error', (error) => this.destroy(error));
  }

  /**
   * Writes body bytes and waits until the inflater has taken them. It takes fewer than given
   * only once its deflate data has ended (bytesWritten counts exactly what it took): the rest is
   * the trailer and whatever follows, and the member ends here.
   */
  private async feed(chunk: Buffer): Promise<void> {
    const inflate = this.inflate!;
    this.fed += chunk.length;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      inflate.once('error', onError);
      inflate.write(chunk, (error) => {
        inflate.off('error', onError);
        if (error) reject(error);
        else resolve();
      });
    });
    const left = this.fed - inflate.bytesWritten;
    if (left === 0) return;
    await memberEnd(inflate); // every byte of its output has been pushed
    this.endMember(inflate);
    this.held = this.held.length === 0 ? chunk.subarray(chunk.length - left) : Buffer.concat([chunk.subarray(chunk.length - left), this.held]);
  }

  private endMember(inflate: InflateRaw): void {
    inflate.destroy();
    this.inflate = undefined;
    this.phase = 'trailer';
  }
}

/** Resolves on the inflater's end (all output emitted); rejects with its error. */
async function memberEnd(inflate: InflateRaw): Promise<void> {
  if (inflate.readableEnded) return;
  await once(inflate, 'end');
}

/** The header's length once all of it is in `bytes`; undefined while it is incomplete. Throws if it is not gzip. */
function headerLength(bytes: Buffer): number | undefined {
  if (bytes.length >= 1 && bytes[0] !== 0x1f) throw corrupt('it is not gzip (bad magic number)');
  if (bytes.length >= 2 && bytes[1] !== 0x8b) throw corrupt('it is not gzip (bad magic number)');
  if (bytes.length >= 3 && bytes[2] !== 8) throw corrupt(`unknown gzip compression method ${bytes[2]}`);
  if (bytes.length < 10) return undefined;
  const flags = bytes[3]!;
  if ((flags & 0xe0) !== 0) throw corrupt('reserved gzip header flags are set');
  let at = 10;
  if (flags & FEXTRA) {
    if (bytes.length < at + 2) return undefined;
    at += 2 + bytes.readUInt16LE(at);
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if ((flags & flag) === 0) continue;
    const nul = bytes.indexOf(0, at);
    if (nul < 0) return undefined;
    at = nul + 1;
  }
  if (flags & FHCRC) at += 2;
  return bytes.length >= at ? at : undefined;
}

function corrupt(why: string): QmError {
  return new QmError('EARCHIVE', `The tar.gz archive is corrupt or truncated: ${why}`);
}
