import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as esbuild from 'esbuild';
import { isQmError, QmError } from '../../src/core/errors';

/**
 * out/dispatcher.js (undici, loaded on the first download) is bundled apart from the CLI and the
 * extension, so it carries its own copy of QmError: errors it throws must still be QmErrors to
 * the code that catches them, or their codes would be lost at the boundary.
 */
describe('QmError across bundles', () => {
  let dir: string;
  let other: { QmError: typeof QmError };

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'qm-errors-bundle-'));
    const outfile = path.join(dir, 'errors.js');
    await esbuild.build({ entryPoints: [path.resolve(__dirname, '../../src/core/errors.ts')], bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'silent' });
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a second, separately bundled copy of the module, on purpose
    other = require(outfile) as { QmError: typeof QmError };
  });

  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('a QmError from another copy of the module is a QmError here, with its code', () => {
    assert.notEqual(other.QmError, QmError, 'the test needs a second copy of the class');
    const error: unknown = new other.QmError('EURL', 'Invalid proxy URL (http://[bad)');
    assert.ok(error instanceof QmError);
    assert.ok(isQmError(error, 'EURL'));
    assert.equal(isQmError(error, 'EIO'), false);
  });

  it('and the other way round', () => {
    assert.ok(new QmError('ENETWORK', 'down') instanceof other.QmError);
  });

  it('nothing else passes for one: not an Error with a code, not a look-alike name', () => {
    const lookalike = Object.assign(new Error('x'), { name: 'QmError', code: 'EURL' });
    assert.equal(lookalike instanceof QmError, false);
    assert.equal(isQmError(lookalike), false);
    assert.equal(isQmError(null), false);
    assert.equal(isQmError('EURL'), false);
  });
});
