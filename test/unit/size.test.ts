import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { formatSize } from '../../src/shared/size';

describe('formatSize: one size convention everywhere', () => {
  it('writes binary units, as qm list and du -h count', () => {
    assert.equal(formatSize(0), '0 B');
    assert.equal(formatSize(1023), '1023 B');
    assert.equal(formatSize(1024), '1.0 KiB');
    assert.equal(formatSize(8 * 1024 * 1024), '8.0 MiB');
    assert.equal(formatSize(8_400_000), '8.0 MiB');
    assert.equal(formatSize(117 * 1024 * 1024), '117 MiB');
    assert.equal(formatSize(3 * 1024 ** 3), '3.0 GiB');
  });

  it('never writes 1024 of a unit after rounding', () => {
    assert.equal(formatSize(1024 * 1024 - 1), '1.0 MiB');
    assert.equal(formatSize(Math.round(1024 * 1023.96)), '1.0 MiB');
  });

  it('is the only size formatter in src: no decimal kB/MB units and no second helper', async () => {
    const offenders: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(file);
        else if (file.endsWith('.ts') && !file.endsWith(path.join('shared', 'size.ts'))) {
          const text = await fs.readFile(file, 'utf8');
          // Units in output strings: a template or quoted literal ending in " kB"/" MB"/" GB".
          if (/\$\{[^}]*\}\s?(?:kB|MB|GB)\b|['"`](?:kB|MB|GB|KiB|MiB|GiB)['"`]/.test(text)) offenders.push(path.relative(process.cwd(), file));
        }
      }
    };
    await walk(path.join(__dirname, '..', '..', 'src'));
    assert.deepEqual(offenders, []);
  });
});
