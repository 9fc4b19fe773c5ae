import { isIP } from 'node:net';
import { QmError } from '../errors';
import type { MirrorRule } from './types';

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
 * What may be fetched: http: and https: only, and plain http only to this machine unless
 * explicitly allowed. Checked for the request URL and again for every redirect hop.
 */
export class UrlPolicy {
  constructor(
    private readonly allowInsecureHttp: boolean,
    private readonly mirrors: readonly MirrorRule[] = [],
  ) {}

  /** Mirror rewrite, then `check`; returns the normalised URL to fetch. */
  resolve(url: string): string {
    return this.check(applyMirrors(url, this.mirrors)).href;
  }

  /** Throws EURL for unparsable URLs and other schemes, EINSECURE for plain http to another host. */
  check(url: string): URL {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (error) {
      throw new QmError('EURL', `Not a valid URL: ${url}`, { url, cause: error });
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new QmError('EURL', `Unsupported URL scheme "${parsed.protocol}" in ${url}: only https: and http: can be downloaded`, { url });
    }
    if (parsed.protocol === 'http:' && !this.allowInsecureHttp && !isLoopbackHost(parsed.hostname)) {
      throw new QmError(
        'EINSECURE',
        `Refusing to download ${parsed.href} over plain http: anyone on the network could alter it. ` +
          'Use an https:// URL or mirror, or allow insecure http explicitly (allowInsecureHttp).',
        { url: parsed.href },
      );
    }
    return parsed;
  }
}
