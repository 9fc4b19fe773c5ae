import { isIP } from 'node:net';
import { QmError } from '../errors';
import { isAllowedHttpHost, parseHttpHost, type HttpHost } from './http-hosts';
import type { MirrorRule } from './types';

/**
 * A URL as it may be shown: user and password (a mirror's `user:pass@`) become `***`. Every
 * URL in an error, a log line, progress or JSON goes through here or `redactCredentials`.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '***';
    parsed.password = '';
    return parsed.href;
  } catch {
    return redactCredentials(url);
  }
}

/** Any text with `scheme://user:pass@` in it, credentials replaced by `***`. */
export function redactCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi, '$1***@');
}

/** The Authorization header for a URL carrying `user:pass@`, or undefined. */
export function basicAuthorization(url: URL): string | undefined {
  if (!url.username && !url.password) return undefined;
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

/** The first rule whose `from` is a prefix of `url` replaces that prefix with its `to`. */
export function applyMirrors(url: string, mirrors: readonly MirrorRule[]): string {
  const rule = mirrors.find((candidate) => candidate.from !== '' && url.startsWith(candidate.from));
  return rule ? rule.to + url.slice(rule.from.length) : url;
}

/**
 * Whether a URL hostname (as `URL.hostname` spells it, IPv6 in brackets) names this machine:
 * localhost, 127.0.0.0/8, ::1, or an IPv4-mapped 127.0.0.0/8. The WHATWG parser has already
 * normalised spellings such as `0x7f.1` or `[0:0::1]`, so plain comparisons are enough.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) {
    if (host === '::1') return true;
    // ::ffff:127.x.y.z is serialised as ::ffff:7fxx:yyzz.
    return /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host);
  }
  return false;
}

/**
 * What may be fetched: http: and https: only, and plain http only to this machine or to a host
 * named in `allowHttpHosts` (or anywhere with `allowInsecureHttp`). Checked for the request URL
 * and again for every redirect hop.
 */
export class UrlPolicy {
  private readonly httpHosts: readonly HttpHost[];
  /** A bad allowlist entry fails every request that needs the policy, not the process that read it. */
  private readonly hostsError: QmError | undefined;

  constructor(
    private readonly allowInsecureHttp: boolean,
    private readonly mirrors: readonly MirrorRule[] = [],
    allowHttpHosts: readonly string[] = [],
  ) {
    let hosts: HttpHost[] = [];
    try {
      hosts = allowHttpHosts.map(parseHttpHost);
    } catch (error) {
      this.hostsError = error as QmError;
    }
    this.httpHosts = hosts;
  }

  /** Mirror rewrite, then `check`; returns the normalised URL to fetch. */
  resolve(url: string): string {
    return this.check(applyMirrors(url, this.mirrors)).href;
  }

  /** Throws EURL for unparsable URLs and other schemes, EINSECURE for plain http to another host. */
  check(url: string): URL {
    if (this.hostsError) throw this.hostsError;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (error) {
      throw new QmError('EURL', `Not a valid URL: ${redactCredentials(url)}`, { url: redactCredentials(url), cause: error });
    }
    const shown = redactUrl(parsed.href);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new QmError('EURL', `Unsupported URL scheme "${parsed.protocol}" in ${shown}: only https: and http: can be downloaded`, { url: shown });
    }
    if (parsed.protocol === 'http:' && !this.allowInsecureHttp && !isLoopbackHost(parsed.hostname) && !isAllowedHttpHost(parsed, this.httpHosts)) {
      throw new QmError(
        'EINSECURE',
        `Refusing to download ${shown} over plain http: anyone on the network could alter it. ` +
          `Use an https:// URL or mirror, or allow this host explicitly: QM_ALLOW_HTTP_HOSTS=${parsed.host} ` +
          '(quartermaster.allowHttpHosts in VS Code).',
        { url: shown },
      );
    }
    return parsed;
  }
}
