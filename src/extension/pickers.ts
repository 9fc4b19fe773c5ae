import * as vscode from 'vscode';
import type { CoordinatorApi } from '../core/coordinator/service';
import { releasesForPicker, specForms, type SpecSuggestion } from '../core/resolve/spec-suggestions';
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
 * Step two: which version: stable releases newest first, then prereleases under their own
 * heading, with LTS, installed, latest and the current one marked; the current stable release
 * (else the newest) is active, never a prerelease. The list arrives from the coordinator (its
 * cached index) while the picker already shows; it is returned with the choice.
 */
export async function pickVersion(
  api: Pick<CoordinatorApi, 'listRemote'>,
  tool: string,
  title: string,
  options: { current?: string; step?: { step: number; total: number } } = {},
): Promise<{ release: RemoteVersion; releases: RemoteVersion[] } | undefined> {
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
  let releases: RemoteVersion[] = [];
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
    releases = await api.listRemote(tool, controller.signal);
    const newestStable = releases.find((r) => !r.prerelease);
    const item = (release: RemoteVersion): VersionItem => {
      const marks = releaseMarks(release, newestStable);
      if (release.installed) marks.push('installed');
      if (release.version === options.current) marks.push('current');
      return { release, label: release.version, description: marks.join(' · '), ...(release.date ? { detail: release.date } : {}) };
    };
    // Stable releases first; prereleases after, under their own heading, and never the active item.
    const { stable, prereleases } = releasesForPicker(tool, releases);
    const separator = { label: 'prereleases', kind: vscode.QuickPickItemKind.Separator } as VersionItem;
    pick.items = [...stable.map(item), ...(prereleases.length > 0 ? [separator, ...prereleases.map(item)] : [])];
    pick.placeholder = `Choose a ${TOOL_TITLES[tool] ?? tool} version (${releases.length} available)`;
    const current = pick.items.find((entry) => entry.release?.version === options.current && stable.includes(entry.release));
    const first = pick.items[0];
    if (current ?? first) pick.activeItems = [(current ?? first)!];
  } catch (error) {
    pick.hide();
    throw error;
  } finally {
    pick.busy = false;
  }
  try {
    const release = await chosen;
    return release ? { release, releases } : undefined;
  } finally {
    pick.dispose();
  }
}

interface FormItem extends vscode.QuickPickItem {
  form: SpecSuggestion;
}

/**
 * The switcher's last step: how to write the chosen release. The form of the spec it replaces
 * comes first (`22` → `20`, `lts`, a range), then the exact pin and the other forms, each saying
 * what it selects now. Skipped (the pin) when there is nothing to choose between.
 */
export async function pickSpecForm(
  tool: string,
  current: string | undefined,
  release: RemoteVersion,
  releases: readonly RemoteVersion[],
  title: string,
  step?: { step: number; total: number },
): Promise<SpecSuggestion | undefined> {
  const forms = specForms(tool, current, release, releases);
  if (forms.length <= 1) return forms[0];
  const items: FormItem[] = forms.map((form) => ({
    form,
    label: form.spec,
    description: `${form.reason}${form.version === release.version ? '' : ` (now ${form.version})`}`,
  }));
  const placeholder = current ? `Write ${tool} as… (now "${current}")` : `Write ${tool} as…`;
  return (await showPick(items, { title, placeholder, ...step }))?.form;
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
