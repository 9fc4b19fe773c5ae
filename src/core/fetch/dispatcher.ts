import type { SecureContext } from 'node:tls';
import { Agent, Dispatcher, EnvHttpProxyAgent, interceptors } from 'undici';
import { QmError } from '../errors';
import { trustedContext } from './ca-certificates';
import { guardedFactory } from './early-close-guard';
import { chooseProxy, type ProxyChoice } from './proxy-url';
import { isLoopbackHost, redactCredentials, redactUrl } from './url-policy';

export interface DispatcherSettings {
  connectTimeoutMs: number;
  maxRedirects: number;
  /** Explicit proxy URL for both http and https targets. */
  proxy: string | undefined;
  /** Read for HTTPS_PROXY, HTTP_PROXY, NO_PROXY (either case) when `proxy` is not given, and NO_PROXY always. */
  env: NodeJS.ProcessEnv;
  /** Send loopback targets through the proxy too. */
  proxyLoopback: boolean;
  /** False: accept any TLS certificate (for proxies that re-sign traffic). */
  strictSsl: boolean;
  /** Throws for a URL that may not be fetched; called for the request and every redirect hop. */
  checkUrl: (url: string) => void;
  /** A PEM bundle of extra CAs to trust (see ca-certificates.ts). */
  caCertificates?: string | undefined;
}

export { chooseProxy, type ProxyChoice } from './proxy-url';

/**
 * The dispatcher every request goes through: connect/TLS timeouts, proxies, a redirect
 * interceptor, and under it a guard that re-checks the URL policy on every hop, so a redirect
 * to plain http on another host is refused before any connection is made to it.
 */
export function createDispatcher(settings: DispatcherSettings): Dispatcher {
  const secureContext = trustedContext(settings.caCertificates);
  const connect = { timeout: settings.connectTimeoutMs, rejectUnauthorized: settings.strictSsl, ...(secureContext ? { secureContext } : {}) };
  const choice = chooseProxy(settings.proxy, settings.env);
  const proxied = choice && proxyAgent(choice, connect);
  const direct = new Agent({ connect, factory: guardedFactory() });
  const bypass = settings.proxyLoopback ? () => false : isLoopbackOrigin;
  const base = proxied ? new BypassDispatcher(direct, proxied, bypass) : direct;
  return base.compose(policyGuard(settings.checkUrl), interceptors.redirect({ maxRedirections: settings.maxRedirects }));
}

function proxyAgent(choice: ProxyChoice, connect: { timeout: number; rejectUnauthorized: boolean; secureContext?: SecureContext }): Dispatcher {
  try {
    // Values are passed explicitly ('' = none) so undici never falls back to process.env.
    return new EnvHttpProxyAgent({
      ...choice,
      connect,
      proxyTls: connect,
      requestTls: connect,
      factory: guardedFactory(),
      // Plain http goes as an absolute-form GET: forward proxies often allow CONNECT only to 443.
      proxyTunnel: false,
    });
  } catch (error) {
    const shown = [...new Set([choice.httpsProxy, choice.httpProxy].filter(Boolean))].map(redactUrl).join(', ');
    const reason = redactCredentials(error instanceof Error ? error.message : String(error));
    throw new QmError('EURL', `Invalid proxy URL (${shown}): ${reason}`, { cause: error });
  }
}

function isLoopbackOrigin(origin: string): boolean {
  return isLoopbackHost(new URL(origin).hostname);
}

/**
 * Routes each hop: loopback targets straight out (a proxy usually cannot reach this machine's
 * 127.0.0.1 anyway), everything else to the proxying agent. Closing closes both.
 */
class BypassDispatcher extends Dispatcher {
  constructor(
    private readonly direct: Dispatcher,
    private readonly proxied: Dispatcher,
    private readonly bypass: (origin: string) => boolean,
  ) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = String(options.origin ?? '');
    return (this.bypass(origin) ? this.direct : this.proxied).dispatch(options, handler);
  }

  override async close(): Promise<void> {
    await Promise.all([this.direct.close(), this.proxied.close()]);
  }

  override async destroy(): Promise<void> {
    await Promise.all([this.direct.destroy(), this.proxied.destroy()]);
  }
}

/**
 * Fails a hop whose URL the policy refuses, without dispatching it; and a redirect whose
 * Location could never be fetched (file:, ftp:, unparsable) as soon as it is seen, naming it,
 * before the redirect interceptor gives up on it with a bare "Invalid URL protocol".
 */
function policyGuard(checkUrl: (url: string) => void): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (options, handler) => {
    const here = new URL(options.path, options.origin).href;
    try {
      checkUrl(here);
    } catch (error) {
      // No connection exists yet, so there is no controller to hand over.
      handler.onResponseError?.(null as unknown as Dispatcher.DispatchController, error as Error);
      return true;
    }
    return dispatch(options, checkingRedirects(here, handler, checkUrl));
  };
}

/** The statuses undici's redirect interceptor follows. */
const REDIRECTS = new Set([300, 301, 302, 303, 307, 308]);

function checkingRedirects(here: string, handler: Dispatcher.DispatchHandler, checkUrl: (url: string) => void): Dispatcher.DispatchHandler {
  return {
    onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
    onRequestUpgrade: (controller, statusCode, headers, socket) => handler.onRequestUpgrade?.(controller, statusCode, headers, socket),
    onResponseStart: (controller, statusCode, headers, statusMessage) => {
      const location = REDIRECTS.has(statusCode) ? headers.location : undefined;
      if (location !== undefined) {
        try {
          checkUrl(resolveLocation(String(location), here));
        } catch (error) {
          controller.abort(error as Error);
          return;
        }
      }
      handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
    },
    onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
    onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
  };
}

/** A Location resolved against the URL that sent it; as given when it does not parse (the policy then says so). */
function resolveLocation(location: string, base: string): string {
  try {
    return new URL(location, base).href;
  } catch {
    return location;
  }
}
