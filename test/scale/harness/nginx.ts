import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './ports';

/** One `location` block: a path on the cache that proxies to an upstream. */
export interface NginxLocation {
  /** A prefix (`/dist/`), or a regex when `regex` is true (`^/gw/.*\.tar\.gz$`). */
  match: string;
  regex?: boolean;
  /**
   * `proxy_pass` target. With a URI part on a prefix location (`http://127.0.0.1:8/`), nginx
   * replaces the matched prefix with it, as usual.
   */
  upstream: string;
  /** Store responses in the shared cache zone. Default false: a plain proxy. */
  cache?: boolean;
  /**
   * `proxy_cache_lock_timeout`, when caching. Default 1h: waiters never go upstream themselves,
   * so every file is fetched once, and they get no headers until the fill ends (the trap).
   */
  lockTimeout?: string;
  /** `slice` size (e.g. '1m'): the cache fills and locks per slice, the documented fix. */
  slice?: string;
  /** `proxy_read_timeout`; nginx's default is 60s. */
  readTimeout?: string;
}

/** One request as nginx logged it (see `log_format qm`). */
export interface NginxLogEntry {
  uri: string;
  status: number;
  /** `$upstream_cache_status`: MISS, HIT, EXPIRED, ... or '' when not cached. */
  cache: string;
  /** The client's Range header, '' for none. */
  range: string;
  bytes: number;
  upstreamStatus: string;
  /** When the request ended, in seconds since the epoch (ms resolution). */
  msec: number;
  /** How long it took, in seconds: `msec - requestTime` is when it started. */
  requestTime: number;
}

/** Why nginx cannot run here, or undefined when it can. */
export function nginxUnavailable(): string | undefined {
  const probe = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  if (probe.error) return `nginx is not installed (${(probe.error as NodeJS.ErrnoException).code}); apt-get install -y nginx-light`;
  return undefined;
}

/**
 * A real nginx `proxy_cache` on 127.0.0.1, run as a child process of the test with a config of
 * its own in a temp prefix (`daemon off`, logs and cache inside the prefix): never the system
 * service. `stop()` ends it and removes the prefix.
 */
export class NginxCache {
  private constructor(
    readonly url: string,
    readonly prefix: string,
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
  ) {}

  /**
   * `locations` for a server generated here, or `http` for the `http {}` block's own directives
   * (`proxy_cache_path`, `server`), given the prefix for its cache and the port to listen on.
   */
  static async start(locations: NginxLocation[] | { http: (prefix: string, port: number) => string }): Promise<NginxCache> {
    // A port picked free may be taken before nginx binds it: try again with another.
    for (let attempt = 1; ; attempt++) {
      const prefix = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-nginx-'));
      try {
        return await NginxCache.startIn(prefix, await freePort(), locations);
      } catch (error) {
        await fs.rm(prefix, { recursive: true, force: true });
        if (attempt >= 3 || !String(error).includes('Address already in use')) throw error;
      }
    }
  }

  private static async startIn(prefix: string, port: number, locations: NginxLocation[] | { http: (prefix: string, port: number) => string }): Promise<NginxCache> {
    for (const dir of ['cache', 'temp', 'logs']) await fs.mkdir(path.join(prefix, dir));
    const conf = path.join(prefix, 'nginx.conf');
    const http = Array.isArray(locations) ? generatedServer(prefix, port, locations) : locations.http(prefix, port);
    await fs.writeFile(conf, nginxConfig(prefix, http));
    const pidFile = path.join(prefix, 'nginx.pid');
    // The pid file is written after the listening socket is bound: its appearance is "ready".
    const ready = waitForFile(pidFile);
    const child = spawn('nginx', ['-p', prefix, '-c', conf, '-e', path.join(prefix, 'logs', 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const failed = exited.then(async () => {
      const log = await fs.readFile(path.join(prefix, 'logs', 'error.log'), 'utf8').catch(() => '');
      throw new Error(`nginx exited before it was ready (code ${child.exitCode}): ${stderr}${log}`);
    });
    try {
      await Promise.race([ready.promise, failed]);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    } finally {
      ready.close();
    }
    failed.catch(() => undefined); // A later exit is stop()'s business.
    return new NginxCache(`http://127.0.0.1:${port}`, prefix, child, exited);
  }

  /** Every request logged so far, in order. nginx writes each line when its request ends. */
  async log(): Promise<NginxLogEntry[]> {
    const text = await fs.readFile(path.join(this.prefix, 'logs', 'access.log'), 'utf8').catch(() => '');
    return text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as NginxLogEntry);
  }

  async errorLog(): Promise<string> {
    return fs.readFile(path.join(this.prefix, 'logs', 'error.log'), 'utf8').catch(() => '');
  }

  /** Bytes nginx holds in its cache directory (the cached bodies and their headers). */
  async cachedBytes(): Promise<number> {
    let total = 0;
    for (const entry of await fs.readdir(path.join(this.prefix, 'cache'), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) total += (await fs.stat(path.join(entry.parentPath, entry.name))).size;
    }
    return total;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
    await fs.rm(this.prefix, { recursive: true, force: true });
  }
}

function nginxConfig(prefix: string, http: string): string {
  const p = (name: string): string => path.join(prefix, name);
  // Workers run as the master's user when that is root: the prefix is a private temp dir.
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  return `${user}daemon off;
worker_processes 1;
pid ${p('nginx.pid')};
error_log ${p('logs/error.log')} info;
events { worker_connections 512; }
http {
  log_format qm escape=json '{"uri":"$uri","status":$status,"cache":"$upstream_cache_status","range":"$http_range","bytes":$body_bytes_sent,"upstreamStatus":"$upstream_status","msec":$msec,"requestTime":$request_time}';
  access_log ${p('logs/access.log')} qm;
  client_body_temp_path ${p('temp/body')};
  proxy_temp_path ${p('temp/proxy')};
  fastcgi_temp_path ${p('temp/fastcgi')};
  uwsgi_temp_path ${p('temp/uwsgi')};
  scgi_temp_path ${p('temp/scgi')};
${http}
}
`;
}

function generatedServer(prefix: string, port: number, locations: NginxLocation[]): string {
  return `  proxy_cache_path ${path.join(prefix, 'cache')} levels=1:2 keys_zone=qm:10m max_size=4g inactive=1d use_temp_path=off;
  server {
    listen 127.0.0.1:${port};
${locations.map(locationBlock).join('')}  }`;
}

function locationBlock(location: NginxLocation): string {
  const lines = [`proxy_pass ${location.upstream};`, 'proxy_http_version 1.1;', 'proxy_set_header Connection "";'];
  if (location.readTimeout) lines.push(`proxy_read_timeout ${location.readTimeout};`);
  if (location.cache) {
    lines.push(
      'proxy_cache qm;',
      'proxy_cache_valid 200 206 1d;',
      // A file the upstream does not have (a signature it does not publish) is asked for once a minute, not once per client.
      'proxy_cache_valid 404 1m;',
      'proxy_cache_lock on;',
      `proxy_cache_lock_timeout ${location.lockTimeout ?? '1h'};`,
      // Without this a fill older than 5 s lets one more request go upstream.
      'proxy_cache_lock_age 1h;',
      'add_header X-Cache-Status $upstream_cache_status;',
    );
    if (location.slice) {
      lines.push(`slice ${location.slice};`, 'proxy_cache_key $scheme$proxy_host$uri$is_args$args$slice_range;', 'proxy_set_header Range $slice_range;');
    }
  }
  return `    location ${location.regex ? '~ ' : ''}${location.match} {\n${lines.map((l) => `      ${l}\n`).join('')}    }\n`;
}

/** Resolves once `file` exists: a directory watch, with a check after arming it. */
function waitForFile(file: string): { promise: Promise<void>; close: () => void } {
  let close = (): void => undefined;
  const promise = new Promise<void>((resolve, reject) => {
    const check = (): void => {
      fs.access(file).then(() => {
        close();
        resolve();
      }, () => undefined);
    };
    try {
      const watcher = watch(path.dirname(file), { persistent: false }, check);
      close = () => watcher.close();
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    check();
  });
  return { promise, close: () => close() };
}
