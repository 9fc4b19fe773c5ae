import type { CodeLens } from 'vscode-languageserver/node';
import type { Manifest } from '../core/manifest/types';
import { INSTALL_COMMAND, type InstallArguments } from './commands';
import { toLspRange } from './ranges';
import { lensTitle } from './status-text';
import { toolState } from './tool-state';
import type { ToolchainView } from './toolchain-view';

/**
 * One lens per tool line: installed, will download N MB (clicking installs), downloading 42%,
 * or why it cannot be resolved.
 */
export function codeLenses(uri: string, manifest: Manifest, view: ToolchainView): CodeLens[] {
  return manifest.tools.map((entry) => {
    const state = toolState(entry, view);
    const title = lensTitle(entry.name, state);
    const installable = state.kind === 'resolved' && !state.installed && !state.progress;
    const args: InstallArguments = { uri, tools: [entry.name] };
    return {
      range: toLspRange(entry.entryRange),
      // A lens without a command id is shown as plain text.
      command: installable ? { title, command: INSTALL_COMMAND, arguments: [args] } : { title, command: '' },
    };
  });
}
