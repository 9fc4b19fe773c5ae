import { parsePlatform, platformId } from '../../core/platform';
import { lockManifest } from '../../core/project/lock-refresh';
import type { Command } from '../command';

export const lockCommand: Command = {
  name: 'lock',
  summary: 'Resolve the manifest and write qm.lock (for this platform, and any named with --platform)',
  usage: 'qm lock [--platform linux-x64 ...]',
  options: { platform: { type: 'string', multiple: true } },
  async run(context, args) {
    const manifest = await context.manifest();
    const platforms = (args.values.platform as string[] | undefined)?.map(parsePlatform) ?? [context.platform];
    const { file, lock, trustedOnFirstUse } = await lockManifest(manifest.file, context.core, platforms, context.signal);
    for (const pin of trustedOnFirstUse) {
      context.streams.err.write(`qm: note: ${pin.tool} ${pin.version} (${pin.platform}) publishes no checksum: qm.lock pins the digest of its first download, ${pin.sha256} (trust on first use)\n`);
    }
    if (context.flags.json) context.json({ lockfile: file, tools: lock.tools, artifacts: lock.artifacts });
    else {
      for (const tool of lock.tools) context.write(`${tool.name} ${tool.spec} -> ${tool.version} (${tool.platform})\n`);
      context.write(`wrote ${file} for ${platforms.map(platformId).join(', ')}\n`);
    }
    return 0;
  },
};
