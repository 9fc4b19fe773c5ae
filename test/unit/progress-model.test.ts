import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { combinedProgress, progressFigures } from '../../src/shared/progress';

const MiB = 1024 * 1024;

describe('the one progress model', () => {
  it('one download: its percent of the bytes, the same for the status bar, the lens and the view', () => {
    const row = { phase: 'downloading' as const, received: 0.39 * 2 * MiB, total: 2 * MiB };
    assert.deepEqual(progressFigures(row), { percent: 39, text: 'downloading 39% of 2.0 MiB' });
    assert.deepEqual(combinedProgress([row]), progressFigures(row));
  });

  it('after the last byte it is 100 %, whatever the phase event carries', () => {
    assert.deepEqual(progressFigures({ phase: 'extracting', received: 0 }), { percent: 100, text: 'unpacking' });
    assert.deepEqual(progressFigures({ phase: 'publishing', received: 0, total: MiB }), { percent: 100, text: 'unpacking' });
  });

  it('no size, no percent: a queued or waiting row says so instead of 0 %', () => {
    assert.deepEqual(progressFigures({ phase: 'queued', received: 0 }), { text: 'queued' });
    assert.equal(progressFigures({ phase: 'downloading', received: 5 * MiB }).percent, undefined);
    assert.match(progressFigures({ phase: 'waiting', received: 0, waitingFor: { pid: 42, host: 'h', purpose: 'download' } }).text, /pid 42/);
  });

  it('several downloads: the bytes of the rows in flight, each counted as its own row shows it', () => {
    const combined = combinedProgress([
      { phase: 'extracting', received: 0, total: 2 * MiB },
      { phase: 'downloading', received: MiB / 2, total: 2 * MiB },
    ]);
    assert.deepEqual(combined, { percent: 62, text: '2 downloads, 62% of 4.0 MiB' });
    assert.deepEqual(combinedProgress([{ phase: 'downloading', received: MiB, total: 2 * MiB }, { phase: 'queued', received: 0 }]), { text: '2 downloads' });
    assert.equal(combinedProgress([]), undefined);
  });
});
