import { toolSpecProblem } from '../core/manifest/known-tools';
import type { ToolEntry } from '../core/manifest/types';
import { parseVersionSpec, selectVersion, type VersionSpec } from '../core/resolve/version-spec';
import type { JobProgress, RemoteVersion, ResolvedTool } from '../shared/protocol';
import type { ToolchainView } from './toolchain-view';

/** What the server knows now about one `tool = spec` line. */
export type ToolState =
  /** The spec is not a version spec; the parser already reports why. */
  | { kind: 'invalid' }
  /** No answer from the coordinator yet (or it cannot be asked). */
  | { kind: 'unknown'; reason?: string }
  /** No released version matches. */
  | { kind: 'no-match'; message: string }
  | {
      kind: 'resolved';
      resolved: ResolvedTool;
      /** The release as the version list shows it (date, LTS), when listed. */
      release?: RemoteVersion;
      installed: boolean;
      /** A job under way on this toolchain, whoever asked. */
      progress?: JobProgress;
    };

/**
 * The state of one tool entry from the view's answers, asking in the background for what is
 * missing. The version list answers "matches nothing" at once while typing; the coordinator's
 * resolution (for this platform) is the authority on what a spec picks.
 */
export function toolState(entry: Pick<ToolEntry, 'name' | 'spec'>, view: ToolchainView): ToolState {
  if (toolSpecProblem(entry.name, entry.spec) !== undefined) return { kind: 'invalid' };
  const spec = parseVersionSpec(entry.spec);
  const versions = view.versions(entry.name);
  if (versions && !selectVersion(spec, versions)) return { kind: 'no-match', message: noMatchMessage(entry, spec, versions) };
  const { resolved, error } = view.resolution(entry.name, entry.spec);
  if (!resolved) {
    if (error?.code === 'ENOVERSION') return { kind: 'no-match', message: error.message };
    return error ? { kind: 'unknown', reason: error.message } : { kind: 'unknown' };
  }
  const release = versions?.find((candidate) => candidate.version === resolved.version);
  const installed = view.isInstalled(resolved.tool, resolved.version, resolved.platform) ?? resolved.installed;
  const progress = installed ? undefined : view.progress(resolved.tool, resolved.version);
  return { kind: 'resolved', resolved, installed, ...(release ? { release } : {}), ...(progress ? { progress } : {}) };
}

function noMatchMessage(entry: Pick<ToolEntry, 'name' | 'spec'>, spec: VersionSpec, versions: RemoteVersion[]): string {
  const newest = versions.find((v) => !v.prerelease);
  const hint = spec.kind === 'lts' && spec.codename ? ' (LTS codenames: ' + ltsCodenames(versions).join(', ') + ')' : newest ? ` (the newest is ${newest.version})` : '';
  return `No released version of ${entry.name} matches "${entry.spec}"${hint}`;
}

/** Node's LTS codenames, newest line first, lower-cased as specs write them (only those a spec can name). */
export function ltsCodenames(versions: readonly RemoteVersion[]): string[] {
  const names: string[] = [];
  for (const version of versions) {
    const name = typeof version.lts === 'string' ? version.lts.toLowerCase() : '';
    if (/^[a-z]+$/.test(name) && !names.includes(name)) names.push(name);
  }
  return names;
}
