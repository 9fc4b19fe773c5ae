import semver from 'semver';
import { CodeActionKind, type CodeAction, type CodeActionParams, type Diagnostic } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { removeKeyEdit, toolSpecEdit } from '../core/manifest/edit';
import type { Manifest, ManifestProblem, ToolEntry } from '../core/manifest/types';
import { nearestSpecs } from '../core/resolve/spec-suggestions';
import { normalizeVersion, parseVersionSpec } from '../core/resolve/version-spec';
import { INSTALL_COMMAND, UPDATE_LOCK_COMMAND, type InstallArguments, type UpdateLockArguments } from './commands';
import { DIAGNOSTIC_SOURCE, type DiagnosticCode } from './diagnostics';
import { rangesTouch, sameRange, toLspRange } from './ranges';
import { toolState } from './tool-state';
import type { ToolchainView } from './toolchain-view';

export interface CodeActionInputs {
  document: TextDocument;
  manifest: Manifest;
  view: ToolchainView;
  params: CodeActionParams;
  /** The diagnostics last published for this document: code actions answer for exactly these. */
  published: Diagnostic[];
}

/**
 * Quick fixes for the published diagnostics (install a toolchain, update qm.lock, remove an
 * unknown key) and rewrites of the tool lines under the cursor (pin to the resolved version,
 * update an exact pin to the newest compatible release). Edits go to qm.toml only: the other
 * manifests belong to other tools.
 */
export function codeActions(inputs: CodeActionInputs): CodeAction[] {
  const { document, manifest, params } = inputs;
  const editable = manifest.kind === 'qm.toml';
  const actions: CodeAction[] = [];
  for (const diagnostic of inputs.published) {
    if (!rangesTouch(diagnostic.range, params.range)) continue;
    const fix = quickFix(inputs, diagnostic, editable);
    if (fix) actions.push(fix);
    if (editable) actions.push(...nearestSpecFixes(inputs, diagnostic));
  }
  if (editable) {
    for (const entry of manifest.tools) {
      if (rangesTouch(toLspRange(entry.entryRange), params.range)) actions.push(...rewrites(document, entry, inputs.view));
    }
  }
  const only = params.context.only;
  return only ? actions.filter((action) => only.some((kind) => action.kind === kind || action.kind?.startsWith(`${kind}.`))) : actions;
}

function quickFix(inputs: CodeActionInputs, diagnostic: Diagnostic, editable: boolean): CodeAction | undefined {
  if (diagnostic.source !== DIAGNOSTIC_SOURCE) return undefined;
  const uri = inputs.document.uri;
  const code = diagnostic.code as DiagnosticCode;
  const data = diagnostic.data as { tool?: string; version?: string } | undefined;
  switch (code) {
    case 'not-installed': {
      if (!data?.tool) return undefined;
      const args: InstallArguments = { uri, tools: [data.tool] };
      const title = `Install ${data.tool} ${data.version ?? ''}`.trimEnd();
      return { title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: true, command: { title, command: INSTALL_COMMAND, arguments: [args] } };
    }
    case 'lock-mismatch': {
      const args: UpdateLockArguments = { uri };
      const title = 'Update qm.lock';
      return { title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: true, command: { title, command: UPDATE_LOCK_COMMAND, arguments: [args] } };
    }
    case 'unknown-key':
    case 'unknown-tool': {
      if (!editable) return undefined;
      const problem = inputs.manifest.problems.find((p) => p.code === code && sameRange(toLspRange(p.range), diagnostic.range));
      if (!problem) return undefined;
      return { title: `Remove ${describeKey(inputs.document, problem)}`, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], edit: { changes: { [uri]: [removeKeyEdit(inputs.document.getText(), problem.range)] } } };
    }
    default:
      return undefined;
  }
}

/**
 * For a spec that matches no release, or is not a spec: change it to the nearest ones that
 * match (the newest release in the line it names, the latest LTS, the latest), each saying what
 * it picks now; the first is preferred. Without a version list yet, "latest" alone.
 */
function nearestSpecFixes(inputs: CodeActionInputs, diagnostic: Diagnostic): CodeAction[] {
  if (diagnostic.source !== DIAGNOSTIC_SOURCE || (diagnostic.code !== 'no-version' && diagnostic.code !== 'bad-spec')) return [];
  const data = diagnostic.data as { tool?: string } | undefined;
  const entry = inputs.manifest.tools.find((tool) => (data?.tool ? tool.name === data.tool : rangesTouch(toLspRange(tool.specRange), diagnostic.range)));
  if (!entry) return [];
  const versions = inputs.view.versions(entry.name);
  const suggestions = versions ? nearestSpecs(entry.name, entry.spec, versions) : [{ spec: 'latest', version: '', reason: 'the latest release' }];
  const actions: CodeAction[] = [];
  for (const suggestion of suggestions) {
    const picks = suggestion.version && suggestion.version !== suggestion.spec ? ` (${suggestion.version})` : '';
    const title = `Change ${entry.name} to "${suggestion.spec}"${picks}: ${suggestion.reason}`;
    try {
      const edit = toolSpecEdit(inputs.document.getText(), entry.name, suggestion.spec);
      actions.push({ title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: actions.length === 0, edit: { changes: { [inputs.document.uri]: [edit] } } });
    } catch {
      return actions; // qm.toml does not parse now; the syntax error says why.
    }
  }
  return actions;
}

function describeKey(document: TextDocument, problem: ManifestProblem): string {
  const key = document.getText(toLspRange(problem.range));
  return problem.code === 'unknown-tool' ? `unknown tool "${key}"` : `unknown key "${key}"`;
}

/** Pin to what the spec resolves to now; move an exact pin to the newest release it is compatible with. */
function rewrites(document: TextDocument, entry: ToolEntry, view: ToolchainView): CodeAction[] {
  const state = toolState(entry, view);
  if (state.kind === 'invalid') return [];
  const actions: CodeAction[] = [];
  const setSpec = (title: string, spec: string): CodeAction | undefined => {
    try {
      return { title, kind: CodeActionKind.RefactorRewrite, edit: { changes: { [document.uri]: [toolSpecEdit(document.getText(), entry.name, spec)] } } };
    } catch {
      return undefined; // qm.toml does not parse now; the syntax error says why.
    }
  };
  const spec = parseVersionSpec(entry.spec);
  if (state.kind === 'resolved' && !(spec.kind === 'exact' && spec.version === state.resolved.version)) {
    const pin = setSpec(`Pin ${entry.name} to ${state.resolved.version}`, state.resolved.version);
    if (pin) actions.push(pin);
  }
  const newest = spec.kind === 'exact' ? newestCompatible(entry.name, spec.version, view) : undefined;
  if (newest) {
    const update = setSpec(`Update ${entry.name} to ${newest}, the newest release compatible with ${entry.spec}`, newest);
    if (update) actions.push(update);
  }
  return actions;
}

/** The newest stable release that `^version` accepts, when it is newer than `version`. */
function newestCompatible(tool: string, version: string, view: ToolchainView): string | undefined {
  const versions = view.versions(tool) ?? [];
  for (const release of versions) {
    if (release.prerelease) continue;
    const candidate = normalizeVersion(tool, release.version);
    if (candidate === undefined || semver.prerelease(candidate) !== null) continue;
    // The list is newest first, so the first compatible release is the newest.
    if (semver.gt(candidate, version) && semver.satisfies(candidate, `^${version}`)) return release.version;
  }
  return undefined;
}
