import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist, type PublishedArtifact } from '../fixtures/node-dist';
import { runQm } from '../helpers/child';
import { tempHome } from '../helpers/temp-home';

const USER = 'deploy-bot';
const PASSWORD = 'hunter2@corp';

/** What `qm` prints, progress and JSON included, never shows a mirror's user:pass@. */
describe('qm with a mirror behind a login (user:pass@ in QM_MIRROR_NODE)', () => {
  let mirror: MirrorServer;
  let artifacts: PublishedArtifact[];
  let scratch: { home: string; dispose: () => Promise<void> };

  before(async () => {
    mirror = await MirrorServer.start({ basicAuth: { user: USER, password: PASSWORD } });
    artifacts = await publishNodeDist(mirror, DEFAULT_RELEASES, { platforms: ['linux-x64'] });
    scratch = await tempHome('qm-credentials-');
    await fs.mkdir(path.join(scratch.home, 'project'));
  });
  after(async () => {
    await mirror.close();
    await scratch.dispose();
  });

  const qm = (args: string[]): ReturnType<typeof runQm> =>
    runQm(args, {
      cwd: path.join(scratch.home, 'project'),
      env: {
        QM_HOME: path.join(scratch.home, 'qm'),
        QM_PLATFORM: 'linux-x64',
        QM_MIRROR_NODE: `${mirror.url.replace('http://', `http://${USER}:${encodeURIComponent(PASSWORD)}@`)}/dist`,
        QM_COORDINATOR: 'off',
      },
    });
  const assertNoSecret = (output: string): void => {
    for (const secret of [USER, PASSWORD, encodeURIComponent(PASSWORD)]) assert.ok(!output.includes(secret), `"${secret}" shown in:\n${output}`);
  };

  it('installs through it, and neither progress nor the JSON result shows the credentials', async () => {
    const result = await qm(['install', 'node@22.12.0', '--json', '--verbose']);
    assert.equal(result.code, 0, result.stderr);
    assertNoSecret(result.stdout + result.stderr);
  });

  it('fails with an error naming the mirror as ***@, not the credentials', async () => {
    const archive = artifacts.find((a) => a.version === 'v20.18.1' && a.ext === 'tar.gz')!;
    mirror.fault(archive.path, { kind: 'status', status: 404 });
    for (const flags of [['--json'], ['--verbose']]) {
      const result = await qm(['install', 'node@20.18.1', ...flags]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stdout + result.stderr, /http:\/\/\*\*\*@127\.0\.0\.1:\d+\/dist\/v20\.18\.1\//);
      assertNoSecret(result.stdout + result.stderr);
    }
  });
});
