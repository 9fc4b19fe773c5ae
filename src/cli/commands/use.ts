import * as path from 'node:path';
import { QmError } from '../../core/errors';
import { installPlan } from '../../core/install/install-plan';
import { findManifest, manifestKind } from '../../core/manifest/find';
import { resolvePlan } from '../../core/plan/plan';
import { refreshLockfile } from '../../core/project/lock-refresh';
import { pinToolSpecs } from '../../core/project/pin';
import type { Command } from '../command';
import { parseToolArg } from '../tool-args';

export const useCommand: Command = {
  name: 'use',
  summary: 'Install a tool version and pin it in qm.toml (created here if there is none)',
  usage: 'qm use tool@version [tool@version ...]',
  options: {},
  async run(context, args) {
    if (args.positionals.length === 0) throw new QmError('EUSAGE', 'qm use needs at least one tool@version, e.g. qm use node@22');
    const requests = args.positionals.map(parseToolArg);
    const found = await findManifest(context.cwd);
    // Only qm.toml is edited: .tool-versions and .nvmrc belong to other tools.
    const file = found && manifestKind(found) === 'qm.toml' ? found : path.join(context.cwd, 'qm.toml');
    const plan = await resolvePlan(
      { file, dir: path.dirname(file), tools: requests, artifacts: [] },
      { providers: context.core.providers, platform: context.platform, signal: context.signal },
    );
    // Install first: a manifest is never left pointing at something that failed to install.
    const result = await installPlan(plan, context.core, { signal: context.signal });
    // Locked and merged: another qm use pinning another tool at the same time keeps its pin.
    await pinToolSpecs(context.core, file, requests, context.signal);
    // An existing qm.lock follows the manifest; none is created implicitly.
    const lockWritten = await refreshLockfile(file, context.core, context.platform, context.signal);
    if (lockWritten && !context.flags.json) context.write(`updated ${lockWritten}\n`);
    if (context.flags.json) context.json({ manifest: file, lockfile: lockWritten ?? null, tools: result.tools.map((t) => ({ tool: t.tool, version: t.version, dir: t.dir })) });
    else for (const tool of result.tools) context.write(`${tool.tool} ${tool.version} pinned as "${requests.find((r) => r.name === tool.tool)?.spec}" in ${file}\n`);
    return 0;
  },
};
