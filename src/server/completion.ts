import { CompletionItemKind, InsertTextFormat, type CompletionItem, type CompletionList, type Range } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { KNOWN_TOOLS } from '../core/manifest/known-tools';
import type { Manifest } from '../core/manifest/types';
import { selectVersion } from '../core/resolve/version-spec';
import type { RemoteVersion } from '../shared/protocol';
import { releaseMarks } from './status-text';
import { cursorContext, declaredTools } from './toml-cursor';
import { ltsCodenames } from './tool-state';
import type { ToolchainView } from './toolchain-view';

export const TOOL_TITLES: Readonly<Record<string, string>> = { node: 'Node.js', go: 'Go', zig: 'Zig' };

const ARTIFACT_KEYS = [
  { key: 'url', detail: 'Where the file is downloaded from (https://)', snippet: 'url = "${1:https://}"' },
  { key: 'sha256', detail: 'The SHA-256 of the file: 64 hexadecimal characters', snippet: 'sha256 = "$1"' },
  { key: 'dest', detail: 'Where a copy goes, relative to qm.toml (optional)', snippet: 'dest = "$1"' },
];

export interface CompletionOptions {
  snippets: boolean;
}

/**
 * Completions at `offset` in qm.toml: tool names in [tools], versions and spec keywords in a
 * tool's value, keys in an artifact. Versions come from what the view holds now; while none has
 * arrived the list is marked incomplete so the editor asks again as the person types.
 */
export function completions(document: TextDocument, manifest: Manifest | undefined, view: ToolchainView, offset: number, options: CompletionOptions): CompletionList {
  const text = document.getText();
  const context = cursorContext(text, offset);
  const range = (start: number, end: number): Range => ({ start: document.positionAt(start), end: document.positionAt(end) });
  switch (context.kind) {
    case 'tool-name': {
      const declared = declaredTools(text);
      for (const tool of manifest?.tools ?? []) declared.add(tool.name);
      const items = KNOWN_TOOLS.filter((tool) => !declared.has(tool)).map((tool, index): CompletionItem => {
        const snippet = options.snippets && !context.valueFollows;
        return {
          label: tool,
          kind: CompletionItemKind.Module,
          detail: TOOL_TITLES[tool] ?? tool,
          sortText: sortKey(index),
          textEdit: { range: range(context.start, context.end), newText: snippet ? `${tool} = "$1"` : tool },
          ...(snippet ? { insertTextFormat: InsertTextFormat.Snippet, command: { title: 'Suggest versions', command: 'editor.action.triggerSuggest' } } : {}),
        };
      });
      return { isIncomplete: false, items };
    }
    case 'tool-version': {
      if (!KNOWN_TOOLS.includes(context.tool)) return { isIncomplete: false, items: [] };
      const versions = view.versions(context.tool);
      const edit = (value: string): { range: Range; newText: string } => ({ range: range(context.start, context.end), newText: context.quoted ? value : `"${value}"` });
      const items = [...keywordItems(context.tool, versions), ...versionItems(context.tool, versions ?? [], view)].map((item, index) => ({
        ...item,
        sortText: sortKey(index),
        filterText: item.label,
        textEdit: edit(item.label),
      }));
      return { isIncomplete: versions === undefined, items };
    }
    case 'artifact-key':
      return {
        isIncomplete: false,
        items: ARTIFACT_KEYS.map(({ key, detail, snippet }, index): CompletionItem => {
          const useSnippet = options.snippets && !context.valueFollows;
          return {
            label: key,
            kind: CompletionItemKind.Property,
            detail,
            sortText: sortKey(index),
            textEdit: { range: range(context.start, context.end), newText: useSnippet ? snippet : key },
            ...(useSnippet ? { insertTextFormat: InsertTextFormat.Snippet } : {}),
          };
        }),
      };
    case 'none':
      return { isIncomplete: false, items: [] };
  }
}

/** `latest`, and for Node `lts` and `lts/<codename>`, each saying what it picks now. */
function keywordItems(tool: string, versions: RemoteVersion[] | undefined): CompletionItem[] {
  const picks = (spec: string): string | undefined => (versions ? selectVersion(spec, versions)?.version : undefined);
  const keyword = (label: string, documentation: string): CompletionItem => {
    const pick = picks(label);
    return { label, kind: CompletionItemKind.Keyword, detail: documentation, ...(pick ? { labelDetails: { description: `→ ${pick}` } } : {}) };
  };
  const items = [keyword('latest', 'The newest stable release')];
  if (tool !== 'node') return items;
  items.push(keyword('lts', 'The newest long-term-support release'));
  for (const codename of ltsCodenames(versions ?? [])) items.push(keyword(`lts/${codename}`, `The newest release of the ${codename} LTS line`));
  return items;
}

/** Every release, newest first: LTS, latest, prerelease and installed marked, the date beside. */
function versionItems(tool: string, versions: RemoteVersion[], view: ToolchainView): CompletionItem[] {
  const newestStable = versions.find((version) => !version.prerelease);
  return versions.map((release) => {
    const marks = releaseMarks(release, newestStable);
    if (view.isInstalled(tool, release.version) ?? release.installed) marks.push('installed');
    return {
      label: release.version,
      kind: CompletionItemKind.Value,
      ...(marks.length > 0 || release.date ? { labelDetails: { ...(marks.length > 0 ? { detail: ` ${marks.join(', ')}` } : {}), ...(release.date ? { description: release.date } : {}) } } : {}),
      ...(release.date ? { detail: `${TOOL_TITLES[tool] ?? tool} ${release.version}, released ${release.date}` } : {}),
    };
  });
}

function sortKey(index: number): string {
  return String(index).padStart(5, '0');
}
