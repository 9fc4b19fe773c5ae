import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { writeCliShim } from '../../src/extension/cli-shim';
import { tempHome } from '../helpers/temp-home';

const run = promisify(execFile);
const POSIX = { skip: process.platform === 'win32' ? 'the shim is a qm.cmd on Windows' : false };

/** What the fake CLI prints: its arguments, how it was started, and which copy it is. */
interface Report {
  argv: string[];
  electronRunAsNode: string | null;
  fakeNode: string | null;
  cli: string;
}

/** A stand-in for out/cli.js that prints what it was given as JSON. */
const FAKE_CLI = `process.stdout.write(JSON.stringify({
  argv: process.argv.slice(2),
  electronRunAsNode: process.env.ELECTRON_RUN_AS_NODE ?? null,
  fakeNode: process.env.QM_TEST_FAKE_NODE ?? null,
  cli: __filename,
}));
`;

describe('writeCliShim: a qm launcher for the integrated terminal', POSIX, () => {
  let root: string;
  let dispose: () => Promise<void>;
  /** Directories with a quote, spaces and a dollar in their names, as a user's home may have. */
  let binDir: string;
  let cli: string;

  beforeEach(async () => {
    ({ home: root, dispose } = await tempHome('qm-shim-'));
    binDir = path.join(root, "it's a $HOME dir", 'bin');
    cli = await fakeCli("o'brien's \"extension\" files");
  });
  afterEach(() => dispose());

  async function fakeCli(dirName: string): Promise<string> {
    const file = path.join(root, dirName, 'cli.js');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, FAKE_CLI);
    return file;
  }

  /** Runs the shim as a terminal would: by its path, with an environment that lacks the variable it sets. */
  async function runShim(shim: string, args: string[] = []): Promise<Report> {
    const env = { ...process.env };
    delete env.ELECTRON_RUN_AS_NODE;
    const { stdout } = await run(shim, args, { env });
    return JSON.parse(stdout) as Report;
  }

  it('writes an executable qm, creating its directory', async () => {
    const shim = await writeCliShim(binDir, cli);
    assert.equal(shim, path.join(binDir, 'qm'));
    const { mode } = await fs.stat(shim);
    assert.equal(mode & 0o100, 0o100, `mode ${(mode & 0o777).toString(8)}`);
    await fs.access(shim, fs.constants.X_OK);
    assert.ok((await fs.readFile(shim, 'utf8')).startsWith('#!/bin/sh\n'));
    assert.deepEqual(await fs.readdir(binDir), ['qm']);
  });

  it('runs the CLI as plain Node with every argument passed through unchanged', async () => {
    const shim = await writeCliShim(binDir, cli);
    const args = ['plain', 'with space', "it's", '"double"', "'single'", '$HOME', '${PATH}', '$(id)', '`id`', '*', '', 'a\nb', '\\', ';', '|', '&&', '--flag=x y', '-', 'ünïcödé'];
    const report = await runShim(shim, args);
    assert.deepEqual(report.argv, args);
    assert.equal(report.electronRunAsNode, '1');
    assert.equal(report.cli, cli);
    assert.deepEqual((await runShim(shim)).argv, []);
  });

  it('runs the Node it was given, wherever it lives', async () => {
    // A launcher standing in for Electron's binary, in a directory as awkward as the others.
    const fakeNode = path.join(root, "electron's \"app\" $x", 'Code Helper');
    await fs.mkdir(path.dirname(fakeNode), { recursive: true });
    await fs.writeFile(fakeNode, `#!/bin/sh\nQM_TEST_FAKE_NODE=yes exec "${process.execPath}" "$@"\n`, { mode: 0o755 });
    const shim = await writeCliShim(binDir, cli, fakeNode);
    const report = await runShim(shim, ['--version', 'a b']);
    assert.deepEqual(report, { argv: ['--version', 'a b'], electronRunAsNode: '1', fakeNode: 'yes', cli });
  });

  it('replaces a shim by rename: a reader of the old one still reads all of it, and runs meanwhile all work', async () => {
    const other = await fakeCli('newer extension');
    const shim = await writeCliShim(binDir, cli);
    const oldText = await fs.readFile(shim, 'utf8');
    const oldInode = (await fs.stat(shim)).ino;
    // A shell running the old shim holds it open like this; a truncating rewrite would empty it under the shell.
    const reader = await fs.open(shim, 'r');
    try {
      assert.equal(await writeCliShim(binDir, other), shim);
      const { buffer, bytesRead } = await reader.read({ buffer: Buffer.alloc(4096), position: 0 });
      assert.equal(buffer.subarray(0, bytesRead).toString('utf8'), oldText);
    } finally {
      await reader.close();
    }
    assert.notEqual((await fs.stat(shim)).ino, oldInode);
    assert.equal((await runShim(shim)).cli, other);

    // Rewrites back and forth while terminals keep starting qm: every start finds a whole launcher.
    const clis = [cli, other];
    const rewrites = (async () => {
      for (let i = 0; i < 16; i++) await writeCliShim(binDir, clis[i % 2]!);
    })();
    const starts = Array.from({ length: 16 }, (_, i) => runShim(shim, [`run ${i}`]));
    const [reports] = await Promise.all([Promise.all(starts), rewrites]);
    reports.forEach((report, i) => {
      assert.deepEqual(report.argv, [`run ${i}`]);
      assert.ok(clis.includes(report.cli), report.cli);
    });
    assert.deepEqual(await fs.readdir(binDir), ['qm']);
  });

  it('two rewrites at once in one process both succeed and leave one whole shim', async () => {
    const other = await fakeCli('newer extension');
    await writeCliShim(binDir, cli);
    const written = await Promise.all([writeCliShim(binDir, other), writeCliShim(binDir, cli), writeCliShim(binDir, other)]);
    assert.deepEqual(written, [path.join(binDir, 'qm'), path.join(binDir, 'qm'), path.join(binDir, 'qm')]);
    assert.deepEqual(await fs.readdir(binDir), ['qm']);
    assert.ok([cli, other].includes((await runShim(path.join(binDir, 'qm'))).cli));
  });
});
