import { QmError } from './errors';

export type OsName = 'linux' | 'darwin' | 'win32';
export type ArchName = 'x64' | 'arm64';

/** The machine a toolchain is for, in Node's own names; each provider maps it to its spelling. */
export interface Platform {
  os: OsName;
  arch: ArchName;
}

/**
 * This machine, or `QM_PLATFORM` ("linux-x64", "darwin-arm64", "win32-x64") when set, so a
 * lockfile can be written for other platforms and tests can ask for one.
 */
export function currentPlatform(env: NodeJS.ProcessEnv = process.env): Platform {
  const override = env.QM_PLATFORM?.trim();
  if (override) return parsePlatform(override);
  return parsePlatform(`${process.platform}-${process.arch}`);
}

export function parsePlatform(text: string): Platform {
  const [os, arch] = text.split('-');
  if ((os === 'linux' || os === 'darwin' || os === 'win32') && (arch === 'x64' || arch === 'arm64')) return { os, arch };
  throw new QmError('EUSAGE', `Unsupported platform "${text}": Quartermaster supports linux, darwin and win32 on x64 and arm64`, { found: text });
}

export function platformId(platform: Platform): string {
  return `${platform.os}-${platform.arch}`;
}
