import type { CodeLens } from 'vscode-languageserver/node';
import type { Manifest } from '../core/manifest/types';
import { INSTALL_COMMAND, type InstallArguments } from './commands';
import { toLspRange } from './ranges';
import { lensTitle } from './status-text';
import { toolState } from './tool-state';
import type { ToolchainView } from './toolchain-view';

/** The client's Switch Version command (the extension registers it): tool → version → how to write it. */
export const SWITCH_VERSION_COMMAND = 'quartermaster.switchVersion';

/**
 * One lens per tool line: installed (clicking switches that tool's version), will download N MB
 * (clicking installs), downloading 42%, or why it cannot be resolved.
 */
export function codeLenses(uri: string, manifest: Manifest, view: ToolchainView): CodeLens[] {
  return manifest.tools.map((entry) => {
    const state = toolState(entry, view);
    const title = lensTitle(entry.name, state);
    const installable = state.kind === 'resolved' && !state.installed && !state.progress;
    const args: InstallArguments = { uri, tools: [entry.name] };
    const switchable = manifest.kind === 'qm.toml' && state.kind === 'resolved' && state.installed;
    return {
      range: toLspRange(entry.entryRange),
      // A lens without a command id is shown as plain text.
      command: installable
        ? { title, command: INSTALL_COMMAND, arguments: [args] }
        : switchable
          ? { title, command: SWITCH_VERSION_COMMAND, arguments: [entry.name] }
          : { title, command: '' },
    };
  });
}
