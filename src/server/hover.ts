import { MarkupKind, type Hover } from 'vscode-languageserver/node';
import type { Manifest, ToolEntry } from '../core/manifest/types';
import type { RemoteVersion } from '../shared/protocol';
import { containsOffset, toLspRange } from './ranges';
import { formatSize, progressText, releaseMarks, TOOL_TITLES } from './status-text';
import { toolState, type ToolState } from './tool-state';
import type { ToolchainView } from './toolchain-view';

/**
 * On a tool's name or version: what the spec resolves to, the release's date and LTS line,
 * whether it is installed (or how its install is getting on) and the download size when the
 * index lists it. Answers from what the view holds now.
 */
export function hover(manifest: Manifest, view: ToolchainView, offset: number): Hover | undefined {
  const entry = manifest.tools.find((tool) => containsOffset(tool.nameRange, offset) || containsOffset(tool.specRange, offset));
  if (!entry) return undefined;
  const onName = containsOffset(entry.nameRange, offset) && entry.nameRange !== entry.specRange;
  const lines = [`**${TOOL_TITLES[entry.name] ?? entry.name}** \`${entry.spec}\``, '', ...describe(entry, toolState(entry, view), view.versions(entry.name))];
  return { contents: { kind: MarkupKind.Markdown, value: lines.join('\n') }, range: toLspRange(onName ? entry.nameRange : entry.specRange) };
}

function describe(entry: ToolEntry, state: ToolState, versions: RemoteVersion[] | undefined): string[] {
  const lines: string[] = [];
  switch (state.kind) {
    case 'invalid':
      lines.push('Not a version spec.');
      break;
    case 'unknown':
      lines.push(state.reason ? `Not resolved: ${state.reason}` : 'Resolving…');
      break;
    case 'no-match':
      lines.push(state.message);
      break;
    case 'resolved': {
      const { resolved, release } = state;
      const newestStable = versions?.find((version) => !version.prerelease);
      const marks = release ? releaseMarks(release, newestStable) : [];
      lines.push(`Resolves to **${resolved.version}** for ${resolved.platform}${marks.length > 0 ? ` (${marks.join(', ')})` : ''}`);
      if (release?.date) lines.push('', `Released ${release.date}`);
      const size = resolved.size !== undefined ? formatSize(resolved.size) : undefined;
      if (state.installed) lines.push('', 'Installed');
      else if (state.progress) lines.push('', `Not installed yet: ${progressText(state.progress)}`);
      else lines.push('', size ? `Not installed: a ${size} download` : 'Not installed (download size not listed)');
      if (state.installed && size) lines.push('', `Download size ${size}`);
      break;
    }
  }
  const newest = versions?.find((version) => !version.prerelease);
  const newestLts = versions?.find((version) => typeof version.lts === 'string' && version.lts !== '' && !version.prerelease);
  const summary = [newest ? `latest ${newest.version}` : undefined, entry.name === 'node' && newestLts ? `newest LTS ${newestLts.version} (${String(newestLts.lts)})` : undefined];
  const known = summary.filter((part): part is string => part !== undefined);
  if (known.length > 0) lines.push('', `Available: ${known.join(' · ')}`);
  return lines;
}
