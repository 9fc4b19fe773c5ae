import { QmError } from '../errors';

/** One host allowed plain http: `port` undefined means any port of that host. */
export interface HttpHost {
  hostname: string;
  port: string | undefined;
}

/** Where the list comes from, for messages: the environment variable and the VS Code setting. */
const NAMES = 'QM_ALLOW_HTTP_HOSTS / quartermaster.allowHttpHosts';

/** `QM_ALLOW_HTTP_HOSTS`: hosts separated by commas or spaces. */
export function httpHostsFromEnv(env: NodeJS.ProcessEnv): string[] {
  return (env.QM_ALLOW_HTTP_HOSTS ?? '').split(/[\s,]+/).filter((entry) => entry !== '');
}

/**
 * Parses `mirror.corp`, `mirror.corp:8080`, `10.0.0.5:80`, `[fd00::1]:8080` as `URL` would spell
 * the host, so `MIRROR.corp` and `mirror.corp.` match the URL's own spelling. Anything else (a
 * scheme, a path, a wildcard) is EUSAGE: the opt-in names hosts, one by one, and never all.
 */
export function parseHttpHost(entry: string): HttpHost {
  const text = entry.trim();
  const refuse = (): QmError =>
    new QmError('EUSAGE', `"${entry}" in ${NAMES} is not a host or host:port (e.g. mirror.corp or mirror.corp:8080)`, { found: entry });
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(text)) throw refuse();
  let url: URL;
  try {
    url = new URL(`http://${text}/`);
  } catch {
    throw refuse();
  }
  const explicitPort = /:(\d{1,5})$/.exec(text)?.[1];
  if (explicitPort !== undefined && Number(explicitPort) > 65535) throw refuse();
  // URL drops the scheme's default port: ":80" is kept here as "80" so it means only port 80.
  return { hostname: url.hostname.replace(/\.$/, ''), port: explicitPort === undefined ? undefined : String(Number(explicitPort)) };
}

/** Whether an http: URL's host and port are on the list. */
export function isAllowedHttpHost(url: URL, hosts: readonly HttpHost[]): boolean {
  const hostname = url.hostname.toLowerCase().replace(/\.$/, '');
  const port = url.port === '' ? '80' : url.port;
  return hosts.some((host) => host.hostname === hostname && (host.port === undefined || host.port === port));
}
