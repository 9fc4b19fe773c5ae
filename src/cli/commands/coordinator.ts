import { once } from 'node:events';
import { CoordinatorHost } from '../../core/coordinator/host';
import type { Command } from '../command';

export const coordinatorCommand: Command = {
  name: 'coordinator',
  summary: 'Serve the download coordinator for QM_HOME until stopped (VS Code does this itself)',
  usage: 'qm coordinator',
  options: {},
  async run(context) {
    const host = await CoordinatorHost.start({ core: context.core, platform: context.platform, logger: context.logger });
    const say = (): void => {
      const line = { role: host.role, endpoint: host.endpoint, pid: process.pid };
      context.write(context.flags.json ? `${JSON.stringify(line)}\n` : `coordinator: ${host.role} at ${host.endpoint} (pid ${process.pid})\n`);
    };
    say();
    const roles = host.onRoleChange(say);
    try {
      if (!context.signal.aborted) await once(context.signal, 'abort');
    } finally {
      roles.dispose();
      await host.dispose();
    }
    return 0;
  },
};
