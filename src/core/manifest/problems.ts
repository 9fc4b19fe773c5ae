import type { ManifestProblem } from './types';

/** Problems in reading order (start, then end); problems at the same place keep their order. */
export function sortProblems(problems: ManifestProblem[]): ManifestProblem[] {
  return problems.sort((a, b) => a.range.start.offset - b.range.start.offset || a.range.end.offset - b.range.end.offset);
}
