import { checkVersionSpec, parseVersionSpec } from '../resolve/version-spec';

/** The tools Quartermaster can install; any other tool name is ignored with a warning. */
export const KNOWN_TOOLS: readonly string[] = ['node', 'go', 'zig'];

const EXAMPLE_VERSIONS = new Map([
  ['node', '22.11.0'],
  ['go', '1.23.4'],
  ['zig', '0.13.0'],
]);
// Names people bring from asdf or habit, to suggest the right one.
const TOOL_ALIASES = new Map([
  ['nodejs', 'node'],
  ['golang', 'go'],
  ['ziglang', 'zig'],
]);

/** A realistic version of `tool` for messages that show what to write. */
export function exampleVersion(tool: string): string {
  return EXAMPLE_VERSIONS.get(tool) ?? '1.2.3';
}

/** The warning for a tool name Quartermaster does not install. */
export function unknownToolMessage(tool: string): string {
  const alias = TOOL_ALIASES.get(tool.toLowerCase());
  const hint = alias ? ` (did you mean "${alias}"?)` : '';
  return `Unknown tool "${tool}"${hint}: Quartermaster installs ${KNOWN_TOOLS.join(', ')}; this entry is ignored`;
}

/** Why `spec` cannot be a version of `tool`, or undefined when it can. */
export function toolSpecProblem(tool: string, spec: string): string | undefined {
  const problem = checkVersionSpec(spec);
  if (problem) return `Tool "${tool}": ${problem}`;
  if (tool !== 'node' && parseVersionSpec(spec).kind === 'lts') {
    return `Tool "${tool}": only Node.js has LTS releases; write a version such as "${exampleVersion(tool)}" or "latest"`;
  }
  return undefined;
}
