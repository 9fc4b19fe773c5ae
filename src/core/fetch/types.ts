import type { Logger } from '../log';

/** Bytes so far of one transfer; `total` when the server or caller said how many. */
export interface TransferProgress {
  received: number;
  total: number | undefined;
}

/** A prefix rewrite: a URL starting with `from` is fetched from `to` + the rest. */
export interface MirrorRule {
  from: string;
  to: string;
}

export interface DownloaderOptions {
  /** Milliseconds to establish a connection (TCP + TLS). Default 15 000. */
  connectTimeoutMs?: number;
  /**
   * Milliseconds without a single body byte before the transfer counts as stalled, and the first
   * wait for a response's headers. Default 30 000.
   */
  idleTimeoutMs?: number;
  /**
   * How long, over one transfer, a connected request may wait for response headers in all. A
   * server that accepted the request but has not answered (a cache filling ahead of us, nginx's
   * `proxy_cache_lock`) is asked again with twice the wait each time, up to 5 minutes a wait,
   * without spending the retry budget. Default 15 minutes.
   */
  headersPatienceMs?: number;
  /** Extra attempts after the first on connection errors, 429 and 5xx. Default 4. */
  retries?: number;
  /** First backoff delay; doubles each attempt, with full jitter, capped at `maxBackoffMs`. Default 250. */
  baseBackoffMs?: number;
  /** Default 8 000. */
  maxBackoffMs?: number;
  /** Explicit proxy URL; overrides HTTPS_PROXY / HTTP_PROXY from `env`. */
  proxy?: string;
  /** Environment to read HTTPS_PROXY, HTTP_PROXY, NO_PROXY from (either case). Default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * Send loopback URLs (localhost, 127.0.0.0/8, ::1) through the proxy too. Default false: a proxy
   * usually cannot reach this machine's loopback, so they go direct.
   */
  proxyLoopback?: boolean;
  /** Check TLS certificates (VS Code's http.proxyStrictSSL). Default true; false accepts any certificate. */
  strictSsl?: boolean;
  /** Allow plain http:// to non-loopback hosts. Default false. */
  allowInsecureHttp?: boolean;
  /**
   * Hosts that may be fetched over plain http (an org mirror without TLS): `host` (any port) or
   * `host:port`, each named explicitly. A bad entry fails each request with EUSAGE. Default none.
   */
  allowHttpHosts?: readonly string[];
  /**
   * A PEM bundle of CA certificates to trust besides the built-in ones (and NODE_EXTRA_CA_CERTS):
   * an org mirror or proxy signed by an internal CA. Unreadable or empty: each request fails with EUSAGE.
   */
  caCertificates?: string;
  /** Prefix rewrites applied before anything else, first match wins. */
  mirrors?: MirrorRule[];
  /** Redirects followed per request. Default 5. */
  maxRedirects?: number;
  userAgent?: string;
  logger?: Logger;
}

/**
 * A second consumer of a body's bytes as they arrive (an archive extractor overlapping the
 * download). It sees exactly the bytes that are hashed: a restart from zero is announced first.
 */
export interface ByteTee {
  /** Takes `chunk` (not to be reused); a promise when the body must wait for it before going on. */
  write(chunk: Buffer): Promise<void> | undefined;
  /** Everything written so far is void; the body starts again from its first byte. */
  restart(): Promise<void>;
}

export interface FileDownloadRequest {
  url: string;
  /**
   * The file to write. The downloader creates or truncates it, appends on resume, truncates on
   * restart, and fsyncs it before resolving. It never renames or deletes it: the caller owns it.
   */
  dest: string;
  /** Declared size from an index or lockfile; a body of another length fails with ESIZE. */
  expectedSize?: number;
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
  tee?: ByteTee;
}

export interface FileDownloadResult {
  /** Lower-case hex SHA-256 of exactly the bytes in `dest`, computed while streaming. */
  sha256: string;
  size: number;
  /** The URL actually fetched, after mirror rewrite (before redirects), credentials shown as `***`. */
  url: string;
  /** How many times a broken body was resumed with Range, and restarted from zero. */
  resumes: number;
  restarts: number;
}

export interface BufferDownloadRequest {
  url: string;
  /** Refuse bodies larger than this (ESIZE). Default 64 MiB. */
  maxBytes?: number;
  signal?: AbortSignal;
}
