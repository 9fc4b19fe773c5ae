import { canonicalTool, isKnownTool, TOOL_NAMES, toolInfo } from '../tools/catalog';
import { checkVersionSpec, parseVersionSpec } from '../resolve/version-spec';

/** The tools Quartermaster can install (plus `github:owner/repo`); any other tool name is ignored with a warning. */
export const KNOWN_TOOLS: readonly string[] = TOOL_NAMES;

export { isKnownTool };

/** A realistic version of `tool` for messages that show what to write. */
export function exampleVersion(tool: string): string {
  return toolInfo(tool)?.example ?? '1.2.3';
}

/** The warning for a tool name Quartermaster does not install. */
export function unknownToolMessage(tool: string): string {
  const alias = canonicalTool(tool);
  const hint = alias && alias !== tool ? ` (did you mean "${alias}"?)` : '';
  return `Unknown tool "${tool}"${hint}: Quartermaster installs ${KNOWN_TOOLS.join(', ')} and "github:<owner>/<repo>"; this entry is ignored`;
}

/** Why `spec` cannot be a version of `tool`, or undefined when it can. */
export function toolSpecProblem(tool: string, spec: string): string | undefined {
  const problem = checkVersionSpec(spec);
  if (problem) return `Tool "${tool}": ${problem}`;
  if (toolInfo(tool)?.lts !== true && parseVersionSpec(spec).kind === 'lts') {
    return `Tool "${tool}": only Node.js and Java have LTS releases; write a version such as "${exampleVersion(tool)}" or "latest"`;
  }
  return undefined;
}
