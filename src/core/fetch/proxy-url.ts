import { QmError } from '../errors';
import { redactUrl } from './url-policy';

/** Which proxies apply, resolved once from the options and the environment. */
export interface ProxyChoice {
  httpProxy: string;
  httpsProxy: string;
  noProxy: string;
}

/**
 * Proxy rules, in order: an explicit `proxy` serves both schemes; otherwise https_proxy /
 * HTTPS_PROXY and http_proxy / HTTP_PROXY from `env` (lower case first, as curl and undici do);
 * otherwise none. NO_PROXY from `env` applies in both cases, so a host the user exempted is never
 * sent to a proxy they configured elsewhere.
 */
export function chooseProxy(proxy: string | undefined, env: NodeJS.ProcessEnv): ProxyChoice | undefined {
  const read = (name: string): string => (env[name.toLowerCase()] ?? env[name.toUpperCase()] ?? '').trim();
  const noProxy = read('no_proxy');
  if (proxy) return { httpProxy: proxy, httpsProxy: proxy, noProxy };
  const httpProxy = read('http_proxy');
  const httpsProxy = read('https_proxy');
  if (!httpProxy && !httpsProxy) return undefined;
  return { httpProxy, httpsProxy, noProxy };
}

/** Fails early, at construction, for a proxy URL that undici would refuse later. */
export function checkProxyUrl(proxy: string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  const choice = chooseProxy(proxy, env);
  for (const url of new Set([choice?.httpProxy, choice?.httpsProxy].filter((u): u is string => Boolean(u)))) {
    try {
      new URL(url);
    } catch (error) {
      throw new QmError('EURL', `Invalid proxy URL (${redactUrl(url)}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}
