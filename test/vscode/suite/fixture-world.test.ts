import * as assert from 'node:assert/strict';
import { mirrorStats, resetMirrorStats, waitForMirror } from '../mirror-stats';

// The harness's promises to every other suite: the extension host inherits the fixture's
// environment, and the mirror and its request counts are reachable from here.
suite('Fixture world', () => {
  test('the extension host inherits QM_HOME, QM_MIRROR_* and QM_TEST_* from the harness', () => {
    const mirror = process.env.QM_TEST_MIRROR;
    assert.ok(mirror, 'QM_TEST_MIRROR is not set');
    assert.ok(process.env.QM_HOME, 'QM_HOME is not set');
    assert.equal(process.env.QM_MIRROR_NODE, `${mirror}/dist`);
    assert.equal(process.env.QM_MIRROR_GO, `${mirror}/dl`);
    assert.equal(process.env.QM_MIRROR_ZIG, `${mirror}/download`);
    assert.ok(process.env.QM_TEST_MIRROR_STATS, 'QM_TEST_MIRROR_STATS is not set');
  });

  test('the mirror counts what it serves and says so', async () => {
    const probe = '/dist/index.tab';
    await resetMirrorStats();
    assert.equal((await mirrorStats(probe)).requests, 0);
    const waited = waitForMirror(probe, 'fullBodies', 1);
    const response = await fetch(`${process.env.QM_TEST_MIRROR}${probe}`);
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    assert.equal((await waited).gets, 1);
    assert.equal((await mirrorStats(probe)).fullBodies, 1);
  });
});
