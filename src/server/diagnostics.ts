import { DiagnosticSeverity, type Diagnostic, type Range } from 'vscode-languageserver/node';
import { lockMismatch, type Lockfile } from '../core/lockfile/qm-lock';
import type { Manifest, ProblemCode, ProblemSeverity } from '../core/manifest/types';
import type { LockState } from './lock-files';
import { toLspRange } from './ranges';
import { formatSize } from './status-text';
import type { ToolState } from './tool-state';

export const DIAGNOSTIC_SOURCE = 'quartermaster';

/** The parser's problem codes, and what the server adds from the coordinator's answers and qm.lock. */
export type DiagnosticCode = ProblemCode | 'no-version' | 'not-installed' | 'lock-mismatch' | 'lock-unreadable';

/** Carried in `Diagnostic.data`, so a code action knows what a diagnostic is about. */
export interface DiagnosticData {
  tool?: string;
  version?: string;
}

const SEVERITY: Record<ProblemSeverity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

export interface DiagnosticInputs {
  manifest: Manifest;
  /** One per `manifest.tools` entry, in the same order. */
  states: ToolState[];
  /** The qm.lock beside a qm.toml; undefined for the read-only files, whose lock qm.toml owns. */
  lock?: LockState;
  /** Quartermaster's platform id, for which qm.lock must match. */
  platform: string;
  /** Where a problem with no place of its own is shown: the manifest's first line. */
  firstLine: Range;
}

export function manifestDiagnostics(inputs: DiagnosticInputs): Diagnostic[] {
  const { manifest, states } = inputs;
  const diagnostics: Diagnostic[] = manifest.problems.map((problem) => diagnostic(toLspRange(problem.range), SEVERITY[problem.severity], problem.code, problem.message));
  manifest.tools.forEach((entry, index) => {
    const state = states[index];
    const range = toLspRange(entry.specRange);
    if (state?.kind === 'no-match') diagnostics.push(diagnostic(range, DiagnosticSeverity.Error, 'no-version', state.message, { tool: entry.name }));
    if (state?.kind === 'resolved' && !state.installed) {
      const { version, size } = state.resolved;
      const download = size !== undefined ? ` (a ${formatSize(size)} download)` : '';
      const message = `${entry.name} ${version} is not installed${download}`;
      diagnostics.push(diagnostic(range, DiagnosticSeverity.Information, 'not-installed', message, { tool: entry.name, version }));
    }
  });
  const lock = inputs.lock;
  const trustworthy = !manifest.problems.some((problem) => problem.severity === 'error');
  if (lock?.kind === 'bad') diagnostics.push(diagnostic(inputs.firstLine, DiagnosticSeverity.Warning, 'lock-unreadable', lock.message));
  if (lock?.kind === 'ok' && trustworthy) {
    const why = lockMismatch(manifest, lock.lock, inputs.platform);
    if (why) {
      const message = `qm.lock does not match qm.toml: ${why}. "qm install" will resolve afresh and rewrite it.`;
      diagnostics.push(diagnostic(mismatchRange(manifest, lock.lock, inputs.platform) ?? inputs.firstLine, DiagnosticSeverity.Warning, 'lock-mismatch', message));
    }
  }
  return diagnostics.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
}

/** The entry qm.lock disagrees with: a tool locked with another spec (or not at all), or a changed artifact. */
function mismatchRange(manifest: Manifest, lock: Lockfile, platform: string): Range | undefined {
  for (const tool of manifest.tools) {
    const entry = lock.tools.find((t) => t.name === tool.name && t.platform === platform);
    if (!entry || entry.spec !== tool.spec) return toLspRange(tool.entryRange);
  }
  for (const artifact of manifest.artifacts) {
    const entry = lock.artifacts.find((a) => a.name === artifact.name);
    if (!entry || entry.url !== artifact.url || entry.sha256 !== artifact.sha256) return toLspRange(artifact.headerRange);
  }
  return undefined;
}

function diagnostic(range: Range, severity: DiagnosticSeverity, code: DiagnosticCode, message: string, data?: DiagnosticData): Diagnostic {
  return { range, severity, code, source: DIAGNOSTIC_SOURCE, message, ...(data ? { data } : {}) };
}
