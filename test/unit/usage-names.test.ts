import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { HomeLayout } from '../../src/core/home';
import { usageFile, usedWithin } from '../../src/core/state/usage-names';
import { tempHome } from '../helpers/temp-home';

describe('usedWithin: whether the fast path may skip recording a manifest use', () => {
  it('only a recent record that names this manifest counts', async () => {
    const { home, dispose } = await tempHome();
    try {
      const layout = new HomeLayout(home);
      const manifest = path.join(home, 'project', 'qm.toml');
      const file = usageFile(layout, manifest);
      const now = Date.now();
      assert.equal(usedWithin(layout, manifest, now, 3_600_000), false, 'no record');
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, JSON.stringify({ file: manifest, lastUsed: new Date(now).toISOString() }));
      assert.equal(usedWithin(layout, manifest, Date.now(), 3_600_000), true);
      // Another manifest's record under this name (a hash collision): not this manifest's use.
      await fs.writeFile(file, JSON.stringify({ file: '/elsewhere/qm.toml', lastUsed: new Date(now).toISOString() }));
      assert.equal(usedWithin(layout, manifest, Date.now(), 3_600_000), false);
      // Old, or dated in the future: due again.
      await fs.writeFile(file, JSON.stringify({ file: manifest, lastUsed: '' }));
      await fs.utimes(file, new Date(now - 7_200_000), new Date(now - 7_200_000));
      assert.equal(usedWithin(layout, manifest, now, 3_600_000), false);
      await fs.utimes(file, new Date(now + 60_000), new Date(now + 60_000));
      assert.equal(usedWithin(layout, manifest, now, 3_600_000), false);
    } finally {
      await dispose();
    }
  });
});
