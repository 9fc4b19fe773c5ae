import * as vscode from 'vscode';
import type { CoordinatorApi } from '../core/coordinator/service';
import { TOOL_NAMES } from '../core/tools/catalog';
import type { RemoteVersion } from '../shared/protocol';
import { releaseMarks, TOOL_TITLES } from '../shared/wording';

interface ToolItem extends vscode.QuickPickItem {
  tool: string;
}

interface VersionItem extends vscode.QuickPickItem {
  release: RemoteVersion;
}

/** Step one: which tool. `current` describes each tool's state in the manifest, if any. */
export async function pickTool(title: string, current: Record<string, string> = {}, step?: { step: number; total: number }): Promise<string | undefined> {
  const items: ToolItem[] = TOOL_NAMES.map((tool) => ({
    tool,
    label: tool,
    description: TOOL_TITLES[tool],
    ...(current[tool] ? { detail: current[tool] } : {}),
  }));
  const picked = await showPick(items, { title, placeholder: 'Choose a tool', ...step });
  return picked?.tool;
}

/**
 * Step two: which version, newest first, with LTS, installed, latest and the current one marked.
 * The list arrives from the coordinator (its cached index) while the picker already shows.
 */
export async function pickVersion(
  api: Pick<CoordinatorApi, 'listRemote'>,
  tool: string,
  title: string,
  options: { current?: string; step?: { step: number; total: number } } = {},
): Promise<RemoteVersion | undefined> {
  const pick = vscode.window.createQuickPick<VersionItem>();
  pick.title = title;
  pick.placeholder = `Loading ${TOOL_TITLES[tool] ?? tool} versions…`;
  pick.busy = true;
  pick.matchOnDescription = true;
  if (options.step) {
    pick.step = options.step.step;
    pick.totalSteps = options.step.total;
  }
  const controller = new AbortController();
  const chosen = new Promise<RemoteVersion | undefined>((resolve) => {
    pick.onDidAccept(() => {
      resolve(pick.selectedItems[0]?.release);
      pick.hide();
    });
    pick.onDidHide(() => {
      controller.abort();
      resolve(undefined);
    });
  });
  pick.show();
  try {
    const releases = await api.listRemote(tool, controller.signal);
    const newestStable = releases.find((r) => !r.prerelease);
    pick.items = releases.map((release) => {
      const marks = releaseMarks(release, newestStable);
      if (release.installed) marks.push('installed');
      if (release.version === options.current) marks.push('current');
      return { release, label: release.version, description: marks.join(' · '), ...(release.date ? { detail: release.date } : {}) };
    });
    pick.placeholder = `Choose a ${TOOL_TITLES[tool] ?? tool} version (${releases.length} available)`;
    const current = pick.items.find((item) => item.release.version === options.current);
    if (current) pick.activeItems = [current];
  } catch (error) {
    pick.hide();
    throw error;
  } finally {
    pick.busy = false;
  }
  try {
    return await chosen;
  } finally {
    pick.dispose();
  }
}

function showPick<T extends vscode.QuickPickItem>(items: T[], options: { title: string; placeholder: string; step?: number; total?: number }): Promise<T | undefined> {
  const pick = vscode.window.createQuickPick<T>();
  pick.title = options.title;
  pick.placeholder = options.placeholder;
  pick.items = items;
  if (options.step !== undefined) {
    pick.step = options.step;
    pick.totalSteps = options.total;
  }
  return new Promise<T | undefined>((resolve) => {
    pick.onDidAccept(() => {
      resolve(pick.selectedItems[0]);
      pick.hide();
    });
    pick.onDidHide(() => {
      resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}
