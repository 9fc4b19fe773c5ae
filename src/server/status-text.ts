import type { JobProgress } from '../shared/protocol';
import { progressFigures } from '../shared/progress';
import { formatSize } from '../shared/wording';

export { TOOL_TITLES, formatSize, releaseMarks } from '../shared/wording';
import type { ToolState } from './tool-state';

/** "downloading 42% of 2.0 MiB", "waiting for pid 1234", "unpacking": the one progress model's words. */
export function progressText(progress: JobProgress): string {
  return progressFigures(progress).text;
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
