import { CompletionItemKind, InsertTextFormat, type CompletionItem, type CompletionList, type Range } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { KNOWN_TOOLS } from '../core/manifest/known-tools';
import { toolInfo } from '../core/tools/catalog';
import type { Manifest } from '../core/manifest/types';
import { parseVersionSpec, selectVersion } from '../core/resolve/version-spec';
import type { InstalledTool, RemoteVersion } from '../shared/protocol';
import { releaseMarks, TOOL_TITLES } from './status-text';
import { cursorContext, declaredTools } from './toml-cursor';
import { ltsCodenames } from './tool-state';
import type { ToolchainView } from './toolchain-view';

const ARTIFACT_KEYS = [
  { key: 'url', detail: 'Where the file is downloaded from (https://)', snippet: 'url = "${1:https://}"' },
  { key: 'sha256', detail: 'The SHA-256 of the file: 64 hexadecimal characters', snippet: 'sha256 = "$1"' },
  { key: 'dest', detail: 'Where a copy goes, relative to qm.toml (optional)', snippet: 'dest = "$1"' },
];

export interface CompletionOptions {
  snippets: boolean;
  /** The client takes `itemDefaults.editRange` (LSP 3.17), so items need not each carry a range. */
  defaultEditRange: boolean;
}

/** The version items of one answer, built once: inside quotes, and quoted for a value not yet begun. */
interface VersionItems {
  installed: readonly InstalledTool[] | undefined;
  bare: CompletionItem[];
  quoted: CompletionItem[];
}

/**
 * Completions in qm.toml: tool names in [tools], versions and spec keywords in a tool's value,
 * keys in an artifact. Versions come from what the view holds now; while none has arrived the
 * list is marked incomplete so the editor asks again as the person types. The items for one
 * version list are built once (selecting what each keyword picks is the costly part) and reused
 * until the view holds a new list or a new installed set.
 */
export class CompletionProvider {
  private readonly built = new WeakMap<RemoteVersion[], VersionItems>();

  constructor(private readonly view: ToolchainView) {}

  complete(document: TextDocument, manifest: Manifest | undefined, offset: number, options: CompletionOptions): CompletionList {
    const text = document.getText();
    const context = cursorContext(text, offset);
    const range = (start: number, end: number): Range => ({ start: document.positionAt(start), end: document.positionAt(end) });
    switch (context.kind) {
      case 'tool-name': {
        const declared = declaredTools(text);
        for (const tool of manifest?.tools ?? []) declared.add(tool.name);
        const snippet = options.snippets && !context.valueFollows;
        const items = KNOWN_TOOLS.filter((tool) => !declared.has(tool)).map((tool, index): CompletionItem => ({
          label: tool,
          kind: CompletionItemKind.Module,
          detail: TOOL_TITLES[tool] ?? tool,
          sortText: sortKey(index),
          textEdit: { range: range(context.start, context.end), newText: snippet ? `${tool} = "$1"` : tool },
          ...(snippet ? { insertTextFormat: InsertTextFormat.Snippet, command: { title: 'Suggest versions', command: 'editor.action.triggerSuggest' } } : {}),
        }));
        return { isIncomplete: false, items };
      }
      case 'tool-version': {
        if (!KNOWN_TOOLS.includes(context.tool)) return { isIncomplete: false, items: [] };
        const versions = this.view.versions(context.tool);
        const built = this.versionItems(context.tool, versions);
        const items = context.quoted ? built.bare : built.quoted;
        const editRange = range(context.start, context.end);
        if (options.defaultEditRange) return { isIncomplete: versions === undefined, itemDefaults: { editRange }, items };
        return {
          isIncomplete: versions === undefined,
          items: items.map(({ textEditText, ...item }) => ({ ...item, textEdit: { range: editRange, newText: textEditText ?? item.label } })),
        };
      }
      case 'artifact-key': {
        const snippet = options.snippets && !context.valueFollows;
        const items = ARTIFACT_KEYS.map(({ key, detail, snippet: body }, index): CompletionItem => ({
          label: key,
          kind: CompletionItemKind.Property,
          detail,
          sortText: sortKey(index),
          textEdit: { range: range(context.start, context.end), newText: snippet ? body : key },
          ...(snippet ? { insertTextFormat: InsertTextFormat.Snippet } : {}),
        }));
        return { isIncomplete: false, items };
      }
      case 'none':
        return { isIncomplete: false, items: [] };
    }
  }

  private versionItems(tool: string, versions: RemoteVersion[] | undefined): VersionItems {
    const installed = this.view.installed();
    const cached = versions && this.built.get(versions);
    if (cached && cached.installed === installed) return cached;
    const bare = [...keywordItems(tool, versions), ...versionItems(tool, versions ?? [], installed)].map((item, index) => ({ ...item, sortText: sortKey(index) }));
    const built: VersionItems = { installed, bare, quoted: bare.map((item) => ({ ...item, textEditText: `"${item.label}"` })) };
    if (versions) this.built.set(versions, built);
    return built;
  }
}

/** `latest` (and rustup's `stable`), for Node and Java `lts`, for Node `lts/<codename>`: each saying what it picks now. */
function keywordItems(tool: string, versions: RemoteVersion[] | undefined): CompletionItem[] {
  const keyword = (label: string, documentation: string): CompletionItem => {
    const pick = versions ? selectVersion(parseVersionSpec(label), versions)?.version : undefined;
    return { label, kind: CompletionItemKind.Keyword, detail: documentation, ...(pick ? { labelDetails: { description: `→ ${pick}` } } : {}) };
  };
  const info = toolInfo(tool);
  const items = [keyword('latest', 'The newest stable release'), ...(info?.latestWords ?? []).map((word) => keyword(word, 'The newest stable release'))];
  if (info?.lts !== true) return items;
  items.push(keyword('lts', 'The newest long-term-support release'));
  for (const codename of ltsCodenames(versions ?? [])) items.push(keyword(`lts/${codename}`, `The newest release of the ${codename} LTS line`));
  return items;
}

/** Every release, newest first: LTS, latest, prerelease and installed marked, the date beside. */
function versionItems(tool: string, versions: RemoteVersion[], installed: readonly InstalledTool[] | undefined): CompletionItem[] {
  const newestStable = versions.find((version) => !version.prerelease);
  const installedVersions = installed ? new Set(installed.filter((t) => t.tool === tool).map((t) => t.version)) : undefined;
  return versions.map((release) => {
    const marks = releaseMarks(release, newestStable);
    if (installedVersions?.has(release.version) ?? release.installed) marks.push('installed');
    const details = { ...(marks.length > 0 ? { detail: ` ${marks.join(', ')}` } : {}), ...(release.date ? { description: release.date } : {}) };
    return { label: release.version, kind: CompletionItemKind.Value, ...(marks.length > 0 || release.date ? { labelDetails: details } : {}) };
  });
}

function sortKey(index: number): string {
  return String(index).padStart(5, '0');
}
