import { QmError } from '../core/errors';
import type { ToolEntry } from '../core/manifest/types';
import { isKnownTool, TOOL_NAMES } from '../core/tools/catalog';
import { parseVersionSpec } from '../core/resolve/version-spec';

export type ToolRequest = Pick<ToolEntry, 'name' | 'spec'>;

/** `node@22`, `go@1.23.4`, `zig` (= latest), `github:cli/cli@2.63.0`: checked, with the argument named in errors. */
export function parseToolArg(arg: string): ToolRequest {
  const at = arg.indexOf('@');
  const name = (at < 0 ? arg : arg.slice(0, at)).trim();
  const spec = at < 0 ? 'latest' : arg.slice(at + 1).trim();
  if (!isKnownTool(name)) {
    throw new QmError('ENOTOOL', `Unknown tool "${name}" in "${arg}": use one of ${TOOL_NAMES.join(', ')} or github:<owner>/<repo>, as tool@version (e.g. node@22)`, { found: arg });
  }
  if (spec === '') throw new QmError('EUSAGE', `"${arg}" names no version: write ${name}@<version>, e.g. ${name}@latest`, { found: arg });
  try {
    parseVersionSpec(spec);
  } catch (error) {
    throw new QmError('EUSAGE', `"${arg}": ${(error as Error).message}`, { found: arg });
  }
  return { name, spec };
}
