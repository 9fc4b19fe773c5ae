import type { JobProgress, RemoteVersion } from '../shared/protocol';
import type { ToolState } from './tool-state';

/** How people write the tools' names. */
export const TOOL_TITLES: Readonly<Record<string, string>> = { node: 'Node.js', go: 'Go', zig: 'Zig' };

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

/** "downloading 42%", "waiting for pid 1234", "installing": a job's state in a few words. */
export function progressText(progress: JobProgress): string {
  switch (progress.phase) {
    case 'queued':
      return 'queued';
    case 'waiting':
      return progress.waitingFor ? `waiting for pid ${progress.waitingFor.pid} (${progress.waitingFor.purpose})` : 'waiting for another download';
    case 'downloading':
      return progress.total ? `downloading ${Math.floor((progress.received / progress.total) * 100)}%` : `downloading ${formatSize(progress.received)}`;
    default:
      return 'installing';
  }
}

/** "LTS Jod", "latest", "prerelease": how a release stands among the tool's versions. */
export function releaseMarks(release: RemoteVersion, newestStable: RemoteVersion | undefined): string[] {
  const marks: string[] = [];
  if (typeof release.lts === 'string' && release.lts !== '') marks.push(`LTS ${release.lts}`);
  if (release === newestStable) marks.push('latest');
  if (release.prerelease) marks.push('prerelease');
  return marks;
}

/** One line for a code lens: the state of a tool entry now. */
export function lensTitle(tool: string, state: ToolState): string {
  switch (state.kind) {
    case 'invalid':
      return `${tool}: not a version spec`;
    case 'unknown':
      return state.reason ? `${tool}: unresolved (${state.reason})` : `${tool}: resolving…`;
    case 'no-match':
      return `${tool}: no matching release`;
    case 'resolved': {
      const { resolved } = state;
      const name = `${tool} ${resolved.version}`;
      if (state.installed) return `${name}: installed`;
      if (state.progress) return `${name}: ${progressText(state.progress)}`;
      return resolved.size !== undefined ? `${name}: will download ${formatSize(resolved.size)}` : `${name}: will download (size not listed)`;
    }
  }
}
