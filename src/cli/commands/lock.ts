import { lockPathFor, readLockfile, writeLockfile } from '../../core/lockfile/qm-lock';
import { parsePlatform, platformId } from '../../core/platform';
import { lockfileFor, resolvePlan } from '../../core/plan/plan';
import type { Command } from '../command';

export const lockCommand: Command = {
  name: 'lock',
  summary: 'Resolve the manifest and write qm.lock (for this platform, and any named with --platform)',
  usage: 'qm lock [--platform linux-x64 ...]',
  options: { platform: { type: 'string', multiple: true } },
  async run(context, args) {
    const manifest = await context.manifest();
    const file = lockPathFor(manifest);
    let lock = await readLockfile(file);
    const platforms = (args.values.platform as string[] | undefined)?.map(parsePlatform) ?? [context.platform];
    for (const platform of platforms) {
      const plan = await resolvePlan(manifest, { providers: context.core.providers, platform, signal: context.signal });
      lock = lockfileFor(plan, lock);
    }
    await writeLockfile(file, lock!);
    if (context.flags.json) context.json({ lockfile: file, tools: lock!.tools, artifacts: lock!.artifacts });
    else {
      for (const tool of lock!.tools) context.write(`${tool.name} ${tool.spec} -> ${tool.version} (${tool.platform})\n`);
      context.write(`wrote ${file} for ${platforms.map(platformId).join(', ')}\n`);
    }
    return 0;
  },
};
