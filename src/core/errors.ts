/**
 * Every failure Quartermaster reports carries one of these codes. Core code throws
 * `QmError`; each boundary (CLI exit code, VS Code message, LSP diagnostic) maps the code.
 */
export type QmErrorCode =
  /** Downloaded bytes do not hash to the expected SHA-256. */
  | 'EINTEGRITY'
  /** The response length differs from Content-Length or the declared size. */
  | 'ESIZE'
  /** A lock is held by someone else and waiting was not allowed or timed out. */
  | 'ELOCKED'
  /** A manifest (qm.toml, .tool-versions, ...) is malformed. */
  | 'EMANIFEST'
  /** No released version matches a version spec. */
  | 'ENOVERSION'
  /** qm.lock no longer matches the manifest (with --locked). */
  | 'ELOCKFILE'
  /** A provider's version index is malformed or lacks what it should list. */
  | 'EINDEX'
  /** A signature upstream publishes (SHASUMS256.txt.asc, .minisig) is bad, untrusted, or required and missing. */
  | 'ESIGNATURE'
  /** No qm.toml, .tool-versions, .nvmrc or .node-version here or in any parent directory. */
  | 'ENOMANIFEST'
  /** A declared toolchain is not installed (and installing was not asked for). */
  | 'ENOTINSTALLED'
  /** A tool name that no provider knows. */
  | 'ENOTOOL'
  /** Connection refused, reset, DNS failure, TLS failure: the network did not answer. */
  | 'ENETWORK'
  /** The server answered with an HTTP status that is not success. */
  | 'EHTTP'
  /** Connecting or waiting for the next body bytes took too long. */
  | 'ETIMEOUT'
  /** A plain http:// URL to a non-loopback host without explicit permission. */
  | 'EINSECURE'
  /** A URL that cannot be parsed or uses an unsupported scheme. */
  | 'EURL'
  /** The operation was cancelled by its caller. */
  | 'ECANCELLED'
  /** The disk is full or a quota was hit. */
  | 'ENOSPC'
  /** Any other filesystem failure inside QM_HOME. */
  | 'EIO'
  /** An archive entry would escape its target or is otherwise unsafe. */
  | 'EARCHIVE'
  /**
   * An untrusted name or path was refused: a name from a manifest, qm.lock, an index or a
   * coordinator request that would leave its directory, or a project write through a symlink
   * or onto something other than a regular file.
   */
  | 'EUNSAFEPATH'
  /** The coordinator's endpoint is unusable or not safe to trust (owner, permissions, a stranger listening). */
  | 'EENDPOINT'
  /** The coordinator went away while it worked for us. */
  | 'ECOORDINATOR'
  /** Bad command-line usage or bad input values. */
  | 'EUSAGE';

export interface QmErrorDetails {
  /** What was expected and what was found, e.g. two digests or two sizes. */
  expected?: string | number;
  found?: string | number;
  url?: string;
  path?: string;
  line?: number;
  column?: number;
  status?: number;
  cause?: unknown;
}

/** Marks QmErrors made by any copy of this module (out/dispatcher.js is bundled apart from the rest). */
const QM_ERROR_BRAND = Symbol.for('quartermaster.QmError');

export class QmError extends Error {
  /** `instanceof QmError` holds across bundles: each bundle has its own copy of this class. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[QM_ERROR_BRAND] === true;
  }

  override readonly name = 'QmError';
  readonly code: QmErrorCode;
  readonly details: QmErrorDetails;

  constructor(code: QmErrorCode, message: string, details: QmErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.details = details;
    Object.defineProperty(this, QM_ERROR_BRAND, { value: true });
  }
}

export function isQmError(error: unknown, code?: QmErrorCode): error is QmError {
  return error instanceof QmError && (code === undefined || error.code === code);
}

/** The error a cancelled operation rejects with, keeping the signal's reason when it is a QmError. */
export function cancelledError(signal: AbortSignal | undefined, what: string): QmError {
  const reason: unknown = signal?.reason;
  if (reason instanceof QmError) return reason;
  return new QmError('ECANCELLED', `${what} was cancelled`, { cause: reason });
}

/** Maps a Node filesystem error inside QM_HOME to ENOSPC or EIO, keeping the path. */
export function fsError(error: unknown, action: string, path: string): QmError {
  if (error instanceof QmError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new QmError('ENOSPC', `No space left on device while trying to ${action} ${path}`, { path, cause: error });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new QmError('EIO', `Could not ${action} ${path}: ${reason}`, { path, cause: error });
}
