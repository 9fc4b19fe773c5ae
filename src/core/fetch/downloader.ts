import type { Dispatcher } from 'undici';
import { cancelledError } from '../errors';
import { silentLogger } from '../log';
import type * as DispatcherModule from './dispatcher';
import type { DispatcherSettings } from './dispatcher';
import { checkProxyUrl } from './proxy-url';
import { BufferSink, FileSink, TeeSink } from './sinks';
import { transfer, type TransferSettings } from './transfer';
import type { BufferDownloadRequest, DownloaderOptions, FileDownloadRequest, FileDownloadResult } from './types';
import { redactUrl, UrlPolicy } from './url-policy';

const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;

/**
 * Downloads over undici with one policy for every caller: mirrors, https-only (loopback
 * excepted), redirects re-checked hop by hop, proxies, timeouts, retries with backoff, and
 * Range resumes. It hashes while streaming and never renames or deletes files: the store does.
 */
export class Downloader {
  private readonly policy: UrlPolicy;
  private readonly dispatcherSettings: DispatcherSettings;
  private dispatcher: Dispatcher | undefined;
  private readonly settings: Omit<TransferSettings, 'dispatcher'>;

  constructor(options: DownloaderOptions = {}) {
    this.policy = new UrlPolicy(options.allowInsecureHttp ?? false, options.mirrors ?? [], options.allowHttpHosts ?? []);
    const maxRedirects = options.maxRedirects ?? 5;
    this.dispatcherSettings = {
      connectTimeoutMs: options.connectTimeoutMs ?? 15_000,
      maxRedirects,
      proxy: options.proxy,
      env: options.env ?? process.env,
      proxyLoopback: options.proxyLoopback ?? false,
      strictSsl: options.strictSsl ?? true,
      checkUrl: (url) => void this.policy.check(url),
      caCertificates: options.caCertificates,
    };
    checkProxyUrl(options.proxy, this.dispatcherSettings.env);
    this.settings = {
      retries: options.retries ?? 4,
      backoff: { baseMs: options.baseBackoffMs ?? 250, maxMs: options.maxBackoffMs ?? 8_000 },
      idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
      headersPatienceMs: options.headersPatienceMs ?? 15 * 60_000,
      maxRedirects,
      userAgent: options.userAgent ?? 'quartermaster',
      logger: options.logger ?? silentLogger,
    };
  }

  /**
   * undici is most of the CLI's start-up time: it is loaded on the first request, so commands
   * that never touch the network (or hand their work to the coordinator) never pay for it.
   */
  private transferSettings(): TransferSettings {
    if (!this.dispatcher) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- deferred on purpose, see above
      const { createDispatcher } = require('./dispatcher') as typeof DispatcherModule;
      this.dispatcher = createDispatcher(this.dispatcherSettings);
    }
    return { ...this.settings, dispatcher: this.dispatcher };
  }

  /** Applies mirrors and the http:// policy; throws EURL / EINSECURE. Keeps any credentials: not for display. */
  resolveUrl(url: string): string {
    return this.policy.resolve(url);
  }

  /** Streams the URL into `request.dest`, hashing (SHA-256) as it writes; fsyncs before resolving. */
  async downloadToFile(request: FileDownloadRequest): Promise<FileDownloadResult> {
    const url = this.resolveUrl(request.url);
    if (request.signal?.aborted) throw cancelledError(request.signal, `GET ${redactUrl(url)}`);
    const sink = await FileSink.open(request.dest);
    try {
      const counts = await transfer(this.transferSettings(), {
        url,
        sink: request.tee ? new TeeSink(sink, request.tee) : sink,
        exactSize: request.expectedSize,
        signal: request.signal,
        onProgress: request.onProgress,
      });
      const sha256 = await sink.finish();
      await sink.close();
      return { sha256, size: sink.received, url: redactUrl(url), ...counts };
    } finally {
      // On failure the first error is the one worth reporting, not a close error after it.
      await sink.close().catch(() => undefined);
    }
  }

  /** A small document (index.json, SHASUMS256.txt) in memory, with the same policy and retries. */
  async downloadBuffer(request: BufferDownloadRequest): Promise<{ body: Buffer; url: string }> {
    const url = this.resolveUrl(request.url);
    const sink = new BufferSink();
    await transfer(this.transferSettings(), { url, sink, maxSize: request.maxBytes ?? DEFAULT_MAX_BUFFER, signal: request.signal });
    return { body: sink.body(), url: redactUrl(url) };
  }

  /** Closes pooled connections; requests still running finish first. */
  async close(): Promise<void> {
    await this.dispatcher?.close();
  }
}
