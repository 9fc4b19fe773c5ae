import * as fs from 'node:fs/promises';
import { TarExtraction } from '../archive';
import type { ByteTee } from '../fetch/types';

/**
 * Unpacks a tar archive while it downloads: the download manager feeds `tee` exactly the bytes
 * it hashes, so when the digest checks out, the staging tree came from verified bytes and only
 * the publish remains. A restart of the download empties the staging directory and starts over.
 * Nothing here is published: a digest mismatch just throws the staging tree away.
 */
export class StreamingExtraction {
  private extraction!: TarExtraction;
  /** Wrapped, so that an extraction failing with `undefined` still counts as failed. */
  private failure: { error: unknown } | undefined;
  private stopped = false;
  private received = 0;

  constructor(
    private readonly kind: 'tar.gz' | 'tar.xz',
    private readonly staging: string,
    private readonly stripComponents: number,
  ) {
    this.start();
  }

  readonly tee: ByteTee = {
    write: (chunk) => {
      this.received += chunk.length;
      // After a failure the rest is discarded; the failure is held until the digest is known
      // (a corrupt byte in transit is a retry, not a verdict), so a write never rejects with it.
      if (this.failure !== undefined || this.stopped) return undefined;
      return this.extraction.write(chunk);
    },
    restart: async () => {
      await this.stop();
      await fs.rm(this.staging, { recursive: true, force: true });
      this.start();
    },
  };

  /** Whether the tee saw the whole of a blob of `size` bytes (it does not when another caller drove the download). */
  sawWhole(size: number): boolean {
    return this.received === size;
  }

  /** Waits for the last entries to be written; rethrows an extraction failure. */
  async finish(): Promise<void> {
    if (this.failure === undefined && !this.stopped) await this.extraction.end().catch(() => undefined);
    if (this.failure) throw this.failure.error;
  }

  /** Stops extracting and waits until nothing writes into the staging directory any more. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.extraction.stop();
  }

  private start(): void {
    this.failure = undefined;
    this.stopped = false;
    this.received = 0;
    // The download manager hashes exactly these bytes and nothing is published unless they match.
    const extraction = TarExtraction.start(this.kind, this.staging, { stripComponents: this.stripComponents, digestChecked: true });
    this.extraction = extraction;
    extraction.outcome.catch((error: unknown) => {
      if (!this.stopped && this.extraction === extraction) this.failure = { error };
    });
  }
}
