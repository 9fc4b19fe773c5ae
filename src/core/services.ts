import { DownloadManager } from './download-manager';
import { Downloader } from './fetch/downloader';
import { httpHostsFromEnv } from './fetch/http-hosts';
import { defaultHome, HomeLayout } from './home';
import { Installer } from './install/installer';
import { LeaseManager } from './install/leases';
import { silentLogger, type Logger } from './log';
import { lockStaleMsFromEnv, LockManager } from './store/locks';
import type { ProcessIdentity } from './store/process-identity';
import { IndexCache } from './providers/index-cache';
import { FirstDownloads } from './providers/first-download';
import { createProviders, mirrorRules, mirrorsFromEnv, type ProviderSet } from './providers/registry';
import { signaturePolicyFromEnv, type SignaturePolicy } from './signatures/policy';
import { SignatureVerifier } from './signatures/verifier';

export interface CoreOptions {
  /** QM_HOME; default from the environment and platform. */
  home?: string;
  env?: NodeJS.ProcessEnv;
  /** Serve indexes from disk only and refuse downloads. */
  offline?: boolean;
  maxConcurrentDownloads?: number;
  /** Per-tool mirror base URLs (and "github"); QM_MIRROR_* from `env` fill the gaps. */
  mirrors?: Partial<Record<string, string>>;
  /** Signature checking; default from QM_SIGNATURES and QM_KEYS_* in `env`. */
  signatures?: SignaturePolicy;
  proxy?: string;
  /** Default true: check TLS certificates. */
  strictSsl?: boolean;
  allowInsecureHttp?: boolean;
  /** Hosts that may be fetched over plain http (`host` or `host:port`); default QM_ALLOW_HTTP_HOSTS from `env`. */
  allowHttpHosts?: string[];
  /** A PEM bundle of extra CA certificates; default QM_CA_CERTS from `env`. NODE_EXTRA_CA_CERTS applies either way. */
  caCertificates?: string;
  indexTtlMs?: number;
  /**
   * How long a lock's heartbeat may stay unchanged before waiters take it over; default
   * `QM_LOCK_STALE_MS` from `env`, else 10 s. Raise it where a holder can be slow to beat (a
   * network filesystem); a shorter one lets a stopped holder's work be taken over sooner.
   */
  lockStaleMs?: number;
  /**
   * Who this process is to other processes (lock owner records, leases) and how it judges them;
   * default the real process. For tests that play several hosts or containers in one process.
   */
  identity?: ProcessIdentity;
  /** The monotonic clock lock staleness is judged by; default performance.now. */
  clock?: () => number;
  logger?: Logger;
}

/** The core's parts, wired once per process (CLI run, extension host, coordinator). */
export interface CoreServices {
  layout: HomeLayout;
  downloader: Downloader;
  /** The home's cross-process locks: the one owner of every lock key (see store/lock-keys.ts). */
  locks: LockManager;
  manager: DownloadManager;
  indexes: IndexCache;
  providers: ProviderSet;
  signatures: SignatureVerifier;
  installer: Installer;
  /** Readers' leases on toolchains: what keeps a tree in use from gc and uninstall (install/leases.ts). */
  leases: LeaseManager;
  close(): Promise<void>;
}

export function createCore(options: CoreOptions = {}): CoreServices {
  const env = options.env ?? process.env;
  const logger = options.logger ?? silentLogger;
  const home = options.home ?? defaultHome(env);
  const layout = new HomeLayout(home);
  const downloader = new Downloader({
    env,
    logger,
    mirrors: mirrorRules({ ...mirrorsFromEnv(env), ...options.mirrors }),
    ...(options.proxy ? { proxy: options.proxy } : {}),
    ...(options.allowInsecureHttp ? { allowInsecureHttp: true } : {}),
    ...(options.strictSsl === false ? { strictSsl: false } : {}),
    allowHttpHosts: options.allowHttpHosts?.length ? options.allowHttpHosts : httpHostsFromEnv(env),
    ...(options.caCertificates || env.QM_CA_CERTS ? { caCertificates: options.caCertificates || env.QM_CA_CERTS } : {}),
  });
  const staleMs = options.lockStaleMs ?? lockStaleMsFromEnv(env);
  const locks = new LockManager(layout.locksDir, {
    logger,
    ...(staleMs !== undefined ? { staleMs } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const manager = new DownloadManager({
    home,
    fetcher: downloader,
    locks,
    logger,
    ...(options.maxConcurrentDownloads ? { maxConcurrent: options.maxConcurrentDownloads } : {}),
  });
  const indexes = new IndexCache({
    dir: layout.indexesDir,
    fetcher: downloader,
    locks,
    logger,
    ...(options.offline ? { offline: true } : {}),
    ...(options.indexTtlMs !== undefined ? { ttlMs: options.indexTtlMs } : {}),
  });
  const signatures = new SignatureVerifier(indexes, options.signatures ?? signaturePolicyFromEnv(env), logger);
  const providers = createProviders(indexes, { signatures, firstDownloads: new FirstDownloads(manager, downloader) });
  const installer = new Installer(manager, locks, signatures);
  const leases = new LeaseManager(layout, options.identity ? { identity: options.identity } : {});
  return { layout, downloader, locks, manager, indexes, providers, signatures, installer, leases, close: () => downloader.close() };
}
