import { QmError } from '../errors';

/** The archive formats toolchain vendors publish. */
export type ArchiveKind = 'tar.gz' | 'tar.xz' | 'zip';

/** Caps that stop a hostile or broken archive before it fills the disk. */
export interface ExtractLimits {
  /** Archive entries of any type, including ones dropped by stripComponents. */
  maxEntries: number;
  /** Regular-file bytes written, declared sizes and actual bytes alike. */
  maxTotalBytes: number;
  /** One regular file's size. */
  maxEntryBytes: number;
}

const GiB = 1024 ** 3;

/** Generous for a toolchain (a Go or Node.js release is ~10-20k entries, < 1 GiB). */
export const DEFAULT_EXTRACT_LIMITS: Readonly<ExtractLimits> = Object.freeze({
  maxEntries: 200_000,
  maxTotalBytes: 8 * GiB,
  maxEntryBytes: 4 * GiB,
});

export interface ExtractOptions {
  limits?: Partial<ExtractLimits>;
  /** Leading path components to drop, like `tar --strip-components`; shorter entries are skipped. */
  stripComponents?: number;
  signal?: AbortSignal;
  /**
   * tar.xz only: the `xz` program to decompress with. Unset: `xz` from PATH when there is one,
   * else the built-in WebAssembly decoder. `false`: always the built-in decoder.
   */
  xzCommand?: string | false;
  /**
   * tar.gz only: the caller checks the SHA-256 of exactly these bytes before anything extracted
   * from them is used (StreamingExtraction), so gzip's own CRC-32 is skipped (RawGunzip).
   */
  digestChecked?: boolean;
}

export interface ExtractResult {
  /** Archive entries seen, including ones dropped by stripComponents. */
  entries: number;
  /** Regular-file bytes written. */
  bytes: number;
  /** Regular files written, hard links included. */
  files: number;
  /** Directory entries in the archive (parents created implicitly are not counted). */
  dirs: number;
  symlinks: number;
}

export function resolveLimits(limits: Partial<ExtractLimits> | undefined): ExtractLimits {
  const given = Object.entries(limits ?? {}).filter(([, value]) => value !== undefined);
  const resolved: ExtractLimits = { ...DEFAULT_EXTRACT_LIMITS, ...Object.fromEntries(given) };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new QmError('EUSAGE', `limits.${name} must be a non-negative integer, got ${String(value)}`, { found: String(value) });
    }
  }
  return resolved;
}
