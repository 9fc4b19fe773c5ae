import type { RemoteVersion } from './protocol';

import { TOOLS } from '../core/tools/catalog';

export { formatSize } from './size';

/** How people write the tools' names. */
export const TOOL_TITLES: Readonly<Record<string, string>> = Object.freeze(Object.fromEntries(TOOLS.map((tool) => [tool.name, tool.title])));

/** "LTS Jod", "latest", "prerelease": how a release stands among the tool's versions. */
export function releaseMarks(release: RemoteVersion, newestStable: RemoteVersion | undefined): string[] {
  const marks: string[] = [];
  if (typeof release.lts === 'string' && release.lts !== '') marks.push(`LTS ${release.lts}`);
  if (release === newestStable) marks.push('latest');
  if (release.prerelease) marks.push('prerelease');
  return marks;
}
