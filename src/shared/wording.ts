import type { RemoteVersion } from './protocol';

import { TOOLS } from '../core/tools/catalog';

/** How people write the tools' names. */
export const TOOL_TITLES: Readonly<Record<string, string>> = Object.freeze(Object.fromEntries(TOOLS.map((tool) => [tool.name, tool.title])));

/** "45.2 MB" (decimal units, as download sizes are usually shown). */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** "LTS Jod", "latest", "prerelease": how a release stands among the tool's versions. */
export function releaseMarks(release: RemoteVersion, newestStable: RemoteVersion | undefined): string[] {
  const marks: string[] = [];
  if (typeof release.lts === 'string' && release.lts !== '') marks.push(`LTS ${release.lts}`);
  if (release === newestStable) marks.push('latest');
  if (release.prerelease) marks.push('prerelease');
  return marks;
}
