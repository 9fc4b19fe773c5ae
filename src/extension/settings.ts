import * as vscode from 'vscode';
import { defaultHome } from '../core/home';
import { MIRROR_KEYS } from '../core/tools/catalog';
import type { CoreOptions } from '../core/services';

export type AutoInstall = 'always' | 'prompt' | 'never';

/** Quartermaster's settings as the core wants them; see docs/extension.md for each key. */
export interface Settings {
  home: string;
  mirrors: Partial<Record<string, string>>;
  /** '' = none configured: HTTPS_PROXY/HTTP_PROXY from the environment apply. */
  proxy: string;
  strictSsl: boolean;
  maxConcurrentDownloads: number;
  offline: boolean;
  /** A PEM file of extra CAs; '' = QM_CA_CERTS from the environment. */
  caCertificates: string;
  /** Hosts allowed plain http; [] = QM_ALLOW_HTTP_HOSTS from the environment. */
  allowHttpHosts: string[];
}

/**
 * Quartermaster's settings, checked: a mirror or proxy that is not an http(s) URL is left out
 * and named in `problems` (setting and value), so one typo cannot stop the extension.
 */
export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings & { problems: string[] } {
  const qm = vscode.workspace.getConfiguration('quartermaster');
  const http = vscode.workspace.getConfiguration('http');
  const problems: string[] = [];
  const configuredMirrors = qm.get<Record<string, unknown>>('mirrors') ?? {};
  const mirrors: Partial<Record<string, string>> = {};
  for (const tool of MIRROR_KEYS) {
    const value = configuredMirrors[tool];
    if (typeof value !== 'string' || value.trim() === '') continue;
    const problem = urlProblem(value.trim());
    if (problem) problems.push(`quartermaster.mirrors.${tool} "${value}" ${problem}; using the default source`);
    else mirrors[tool] = value.trim();
  }
  let proxy = qm.get<string>('proxy')?.trim() || http.get<string>('proxy')?.trim() || '';
  const proxyProblem = proxy ? urlProblem(proxy) : undefined;
  if (proxyProblem) {
    problems.push(`${qm.get<string>('proxy')?.trim() ? 'quartermaster.proxy' : 'http.proxy'} "${proxy}" ${proxyProblem}; using no proxy setting`);
    proxy = '';
  }
  return {
    home: qm.get<string>('home')?.trim() || defaultHome(env),
    mirrors,
    proxy,
    strictSsl: http.get<boolean>('proxyStrictSSL') ?? true,
    maxConcurrentDownloads: clamp(qm.get<number>('maxConcurrentDownloads') ?? 4, 1, 16),
    offline: qm.get<boolean>('offline') ?? false,
    caCertificates: qm.get<string>('caCertificates')?.trim() ?? '',
    allowHttpHosts: (qm.get<unknown[]>('allowHttpHosts') ?? []).filter((host): host is string => typeof host === 'string' && host.trim() !== '').map((host) => host.trim()),
    problems,
  };
}

/** `quartermaster.autoInstall` as it applies to one manifest (folder settings may differ). */
export function autoInstallFor(file: string): AutoInstall {
  const value = vscode.workspace.getConfiguration('quartermaster', vscode.Uri.file(file)).get<string>('autoInstall');
  return value === 'always' || value === 'never' ? value : 'prompt';
}

export function coreOptions(settings: Settings, logger: CoreOptions['logger']): CoreOptions {
  return {
    home: settings.home,
    mirrors: settings.mirrors,
    ...(settings.proxy ? { proxy: settings.proxy } : {}),
    strictSsl: settings.strictSsl,
    maxConcurrentDownloads: settings.maxConcurrentDownloads,
    offline: settings.offline,
    ...(settings.caCertificates ? { caCertificates: settings.caCertificates } : {}),
    ...(settings.allowHttpHosts.length > 0 ? { allowHttpHosts: settings.allowHttpHosts } : {}),
    ...(logger ? { logger } : {}),
  };
}

/** Settings the running core was built from: changing one needs a new core (a window reload). */
export function affectsCore(event: vscode.ConfigurationChangeEvent): boolean {
  return ['home', 'mirrors', 'proxy', 'maxConcurrentDownloads', 'offline', 'caCertificates', 'allowHttpHosts'].some((key) => event.affectsConfiguration(`quartermaster.${key}`))
    || event.affectsConfiguration('http.proxy')
    || event.affectsConfiguration('http.proxyStrictSSL');
}

/** The environment a `qm` started from VS Code (terminal, task) should see, so it agrees with this window. */
export function environmentFor(settings: Settings): Record<string, string> {
  const env: Record<string, string> = { QM_HOME: settings.home };
  for (const [tool, url] of Object.entries(settings.mirrors)) if (url) env[`QM_MIRROR_${tool.toUpperCase()}`] = url;
  if (settings.caCertificates) env.QM_CA_CERTS = settings.caCertificates;
  if (settings.allowHttpHosts.length > 0) env.QM_ALLOW_HTTP_HOSTS = settings.allowHttpHosts.join(',');
  return env;
}

function urlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : `is not an http(s) URL`;
}

function clamp(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, Math.round(value))) : min;
}
