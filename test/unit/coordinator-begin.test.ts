import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { CoordinatorHost } from '../../src/core/coordinator/host';
import { parsePlatform } from '../../src/core/platform';
import { createCore } from '../../src/core/services';
import { tempHome } from '../helpers/temp-home';

describe('CoordinatorHost.begin (a window that does not wait for its election)', () => {
  it('returns before electing; work asked meanwhile waits for the outcome and goes to the leader', async () => {
    const scratch = await tempHome('qm-begin-');
    const home = path.join(scratch.home, 'qm');
    const endpoint = path.join(scratch.home, 'run', 'coordinator.sock');
    const cores = [createCore({ home, env: {} }), createCore({ home, env: {} })];
    const hosts = cores.map((core) => CoordinatorHost.begin({ core, platform: parsePlatform('linux-x64'), endpoint }));
    try {
      // Counts the calls each window's own service answers.
      const served = hosts.map((host) => {
        const counter = { calls: 0 };
        const own = host.service.listInstalled.bind(host.service);
        host.service.listInstalled = () => {
          counter.calls++;
          return own();
        };
        return counter;
      });
      assert.deepEqual(hosts.map((host) => host.role), ['standalone', 'standalone'], 'nothing is elected before begin returns');
      const answers = await Promise.all(hosts.map((host) => host.api.listInstalled()));
      assert.deepEqual(answers, [[], []]);
      await Promise.all(hosts.map((host) => host.ready));
      const roles = hosts.map((host) => host.role).sort();
      assert.deepEqual(roles, ['client', 'leader']);
      const leader = hosts.findIndex((host) => host.role === 'leader');
      assert.deepEqual(served.map((s) => s.calls), leader === 0 ? [2, 0] : [0, 2], "the client window's early call went to the leader, not to its own service");
    } finally {
      for (const host of hosts) await host.dispose();
      for (const core of cores) await core.close();
      await scratch.dispose();
    }
  });
});
