import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { once } from 'node:events';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isQmError } from '../../src/core/errors';
import { prependPath } from '../../src/core/exec/path-env';
import { readShebang } from '../../src/core/exec/shebang';
import { findOnPath, runTool, spawnTool } from '../../src/core/exec/spawn';
import { tempHome } from '../helpers/temp-home';

const posixOnly = { skip: process.platform === 'win32' ? 'POSIX exec semantics' : false };
/** A PATH with sh and friends but nothing of the developer's own. */
const SYSTEM_PATH = '/usr/bin:/bin';

describe('readShebang', () => {
  let dir: string;
  let dispose: () => Promise<void>;
  beforeEach(async () => ({ home: dir, dispose } = await tempHome('qm-exec-')));
  afterEach(() => dispose());

  const cases: Array<[string, string | Buffer, { interpreter: string; args: string[] } | undefined]> = [
    ['env and a command', '#!/usr/bin/env node\nconsole.log(1)\n', { interpreter: 'node', args: [] }],
    ['a path and an option', '#!/bin/sh -e\necho hi\n', { interpreter: '/bin/sh', args: ['-e'] }],
    ['CRLF, blanks after #! and trailing', '#! /bin/bash  -x \t\r\necho hi\r\n', { interpreter: '/bin/bash', args: ['-x'] }],
    ['several options, split on blanks', '#!/bin/sh -e -u\n', { interpreter: '/bin/sh', args: ['-e', '-u'] }],
    ['env -S with options', '#!/usr/bin/env -S node --no-warnings --max-old-space-size=64\n', { interpreter: 'node', args: ['--no-warnings', '--max-old-space-size=64'] }],
    ['env -S glued to its text', '#!/usr/bin/env -Sdeno run\n', { interpreter: 'deno', args: ['run'] }],
    ['env -S with an assignment stays with env', '#!/usr/bin/env -S FOO=1 node\n', { interpreter: '/usr/bin/env', args: ['-S', 'FOO=1 node'] }],
    ['env -S with quoting stays with env', "#!/usr/bin/env -S node -e 'x'\n", { interpreter: '/usr/bin/env', args: ['-S', "node -e 'x'"] }],
    ['env with its own option stays with env', '#!/usr/bin/env -i node\n', { interpreter: '/usr/bin/env', args: ['-i', 'node'] }],
    ['no newline at the end of a short file', '#!/bin/sh', { interpreter: '/bin/sh', args: [] }],
    ['an ELF binary', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), undefined],
    ['an empty file', '', undefined],
    ['a comment, not a shebang', '# !/bin/sh\n', undefined],
    ['#! and nothing else', '#!\n', undefined],
    ['#! and blanks', '#!   \r\n', undefined],
    ['a line that does not end within 256 bytes', `#!/bin/sh ${'x'.repeat(300)}\n`, undefined],
  ];
  for (const [name, content, expected] of cases) {
    it(name, async () => {
      const file = path.join(dir, 'script');
      await fs.writeFile(file, content);
      assert.deepEqual(await readShebang(file), expected);
    });
  }

  it('says undefined for a missing file and for a directory', async () => {
    assert.equal(await readShebang(path.join(dir, 'missing')), undefined);
    assert.equal(await readShebang(dir), undefined);
  });
});

describe('findOnPath', posixOnly, () => {
  let dir: string;
  let dispose: () => Promise<void>;
  beforeEach(async () => ({ home: dir, dispose } = await tempHome('qm-exec-')));
  afterEach(() => dispose());

  async function tool(relative: string, mode: number): Promise<string> {
    const file = path.join(dir, relative);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, '#!/bin/sh\n', { mode });
    await fs.chmod(file, mode);
    return file;
  }

  it('returns the first executable file in PATH order, skipping non-executables and directories', async () => {
    await tool('a/tool', 0o644);
    await fs.mkdir(path.join(dir, 'b', 'tool'), { recursive: true });
    const wanted = await tool('c/tool', 0o755);
    await tool('d/tool', 0o755);
    const pathValue = ['a', 'b', 'c', 'd'].map((name) => path.join(dir, name)).join(path.delimiter);
    assert.equal(await findOnPath('tool', pathValue), wanted);
    assert.equal(await findOnPath('other', pathValue), undefined);
    assert.equal(await findOnPath('tool', ''), undefined);
  });

  it('does not treat an empty entry as the current directory, and resolves relative entries against cwd', async () => {
    const local = await tool('tool', 0o755);
    assert.equal(await findOnPath('tool', `${path.delimiter}/nonexistent`, { cwd: dir }), undefined);
    assert.equal(await findOnPath('tool', '.', { cwd: dir }), local);
  });

  it('checks a name with a slash directly', async () => {
    const file = await tool('bin/tool', 0o755);
    assert.equal(await findOnPath('./bin/tool', '', { cwd: dir }), file);
    assert.equal(await findOnPath(file, ''), file);
    await tool('bin/plain', 0o644);
    assert.equal(await findOnPath('./bin/plain', '', { cwd: dir }), undefined);
  });
});

describe('prependPath', () => {
  it('puts the new directories first, once each, and drops empty entries', () => {
    const env = prependPath({ PATH: '/usr/bin::/opt/qm/bin/:/bin:/usr/bin', HOME: '/h' }, ['/opt/qm/bin', '/opt/x'], 'linux');
    assert.deepEqual(env, { PATH: '/opt/qm/bin:/opt/x:/usr/bin:/bin', HOME: '/h' });
  });

  it('keeps the case of the PATH key on Windows, merges case variants, and compares case-insensitively', () => {
    const env = prependPath({ Path: 'C:\\Windows;c:\\tools\\', PATH: 'D:\\bin', TEMP: 'C:\\t' }, ['C:\\Tools'], 'win32');
    assert.deepEqual(env, { Path: 'C:\\Tools;C:\\Windows;D:\\bin', TEMP: 'C:\\t' });
    assert.deepEqual(prependPath({}, ['C:\\qm'], 'win32'), { Path: 'C:\\qm' });
  });

  it('does not change the given object', () => {
    const original = { PATH: '/bin' };
    prependPath(original, ['/x'], 'linux');
    assert.deepEqual(original, { PATH: '/bin' });
  });
});

describe('runTool and spawnTool', posixOnly, () => {
  let dir: string;
  let dispose: () => Promise<void>;
  beforeEach(async () => ({ home: dir, dispose } = await tempHome('qm-exec-')));
  afterEach(() => dispose());

  async function script(name: string, text: string, mode = 0o755): Promise<string> {
    const file = path.join(dir, name);
    await fs.writeFile(file, text, { mode });
    await fs.chmod(file, mode);
    return file;
  }

  it('resolves exit codes of binaries and scripts, and 128 + n for signal n', async () => {
    assert.equal(await runTool('/bin/true', []), 0);
    assert.equal(await runTool('/bin/false', []), 1);
    assert.equal(await runTool(await script('three', '#!/bin/sh\nexit 3\n'), []), 3);
    assert.equal(await runTool(await script('term', '#!/bin/sh\nkill -TERM $$\n'), []), 128 + 15);
    assert.equal(await runTool(await script('kill', '#!/bin/sh\nkill -KILL $$\n'), []), 128 + 9);
  });

  it('looks bare names up on the PATH of options.env, not of this process', async () => {
    const bin = path.join(dir, 'bin');
    await fs.mkdir(bin);
    const file = path.join(bin, 'qm-test-tool');
    await fs.writeFile(file, '#!/bin/sh\nexit "$1"\n', { mode: 0o755 });
    assert.equal(await runTool('qm-test-tool', ['42'], { env: { PATH: `${bin}${path.delimiter}${SYSTEM_PATH}` } }), 42);
    assert.equal(await runTool('sh', ['-c', 'exit 7'], { env: { PATH: SYSTEM_PATH } }), 7);
    await assert.rejects(runTool('qm-test-tool', ['0']), (error) => isQmError(error, 'EUSAGE'));
  });

  it('runs a script through its interpreter: no executable bit needed, and it may still be open for writing', async () => {
    const file = path.join(dir, 'fresh');
    const out = path.join(dir, 'out');
    const handle = await fs.open(file, 'w', 0o644);
    try {
      await handle.writeFile(`#!/bin/sh -e\nprintf '%s|%s' "$0" "$1" > '${out}'\nexit 5\n`);
      // exec'ing the script itself would fail: EACCES for the mode, ETXTBSY for the open handle.
      const retries: number[] = [];
      const code = await runTool(file, ['arg'], { etxtbsyBudgetMs: 0, onRetry: (attempt) => retries.push(attempt) });
      assert.equal(code, 5);
      assert.deepEqual(retries, []);
    } finally {
      await handle.close();
    }
    assert.equal(await fs.readFile(out, 'utf8'), `${file}|arg`);
  });

  it('follows #!/usr/bin/env -S to an interpreter found on the PATH of options.env', async () => {
    const file = await script('node-script', '#!/usr/bin/env -S node --no-warnings\nprocess.exit(Number(process.argv[2]))\n', 0o644);
    const env = { PATH: path.dirname(process.execPath) };
    assert.equal(await runTool(file, ['9'], { env }), 9);
  });

  it('follows nested interpreters', async () => {
    const inner = await script('inner', '#!/bin/sh\nexit 11\n');
    // A script used as an interpreter receives the outer script as $1; this one ignores it.
    const outer = await script('outer', `#!${inner}\n`);
    assert.equal(await runTool(outer, []), 11);
  });

  it('passes the name as given as argv[0]', async () => {
    const child = await spawnTool('sh', ['-c', 'printf "%s" "$0"'], { env: { PATH: SYSTEM_PATH }, stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
    await once(child, 'close');
    assert.equal(Buffer.concat(chunks).toString(), 'sh');
  });

  it('says "command not found" with the PATH it searched, as EUSAGE', async () => {
    await assert.rejects(runTool('qm-no-such-tool', [], { env: { PATH: `${dir}${path.delimiter}/nonexistent` } }), (error) => {
      assert.ok(isQmError(error, 'EUSAGE'));
      assert.match(error.message, /command not found: qm-no-such-tool \(looked in PATH .*\/nonexistent\)/);
      return true;
    });
    await assert.rejects(runTool('qm-no-such-tool', [], { env: {} }), /PATH is empty/);
    await assert.rejects(runTool(path.join(dir, 'missing'), []), (error) => {
      assert.ok(isQmError(error, 'EUSAGE'));
      assert.match(error.message, /command not found: .*missing \(no such file/);
      return true;
    });
    const orphan = await script('orphan', '#!/nonexistent/interpreter\n');
    await assert.rejects(runTool(orphan, []), (error) => isQmError(error, 'EUSAGE') && /\/nonexistent\/interpreter/.test(error.message));
    const viaEnv = await script('via-env', '#!/usr/bin/env qm-no-such-interpreter\n');
    await assert.rejects(runTool(viaEnv, [], { env: { PATH: SYSTEM_PATH } }), (error) => isQmError(error, 'EUSAGE') && /interpreter named by the #! line/.test(error.message));
  });

  it('says why permission was denied', async () => {
    const binary = path.join(dir, 'not-executable');
    await fs.copyFile('/bin/true', binary);
    await fs.chmod(binary, 0o644);
    await assert.rejects(runTool(binary, []), (error) => isQmError(error, 'EUSAGE') && /not executable \(mode 644\)/.test(error.message));
    await assert.rejects(runTool(dir, []), (error) => isQmError(error, 'EUSAGE') && /is a directory/.test(error.message));
  });

  it('says when the working directory is missing', async () => {
    await assert.rejects(runTool('/bin/true', [], { cwd: path.join(dir, 'gone') }), (error) => isQmError(error, 'EUSAGE') && /working directory/.test(error.message));
  });

  it('retries while the executable is open for writing, and succeeds once it is closed', async () => {
    const binary = path.join(dir, 'busy');
    const handle = await fs.open(binary, 'w', 0o755);
    await handle.writeFile(await fs.readFile('/bin/true'));
    const retries: number[] = [];
    let closing: Promise<void> | undefined;
    const code = await runTool(binary, [], {
      onRetry: (attempt, error) => {
        assert.equal(error.code, 'ETXTBSY');
        retries.push(attempt);
        if (attempt === 3) closing = handle.close();
      },
    });
    await closing;
    assert.equal(code, 0);
    // The close takes a thread-pool round trip, which may outlast the next backoff or two.
    assert.deepEqual(retries.slice(0, 3), [1, 2, 3]);
    assert.deepEqual(retries, retries.map((_, index) => index + 1));
  });

  it('gives up with EIO after the budget, and at once with a budget of 0', async () => {
    const binary = path.join(dir, 'busy');
    const handle = await fs.open(binary, 'w', 0o755);
    try {
      await handle.writeFile(await fs.readFile('/bin/true'));
      await assert.rejects(runTool(binary, [], { etxtbsyBudgetMs: 0 }), (error) => {
        assert.ok(isQmError(error, 'EIO'));
        assert.match(error.message, /busy .* after 1 attempts/);
        assert.equal((error.cause as NodeJS.ErrnoException).code, 'ETXTBSY');
        return true;
      });
      const retries: number[] = [];
      const started = performance.now();
      await assert.rejects(runTool(binary, [], { etxtbsyBudgetMs: 200, onRetry: (attempt) => retries.push(attempt) }), (error) => isQmError(error, 'EIO'));
      const elapsed = performance.now() - started;
      // Backoff 1, 2, 4, ... 64 ms: at most 7 retries fit in 200 ms (127 ms, and the next 100 would
      // not); fewer when spawn attempts themselves are slow on a loaded machine.
      assert.ok(retries.length >= 1 && retries.length <= 7, `${retries.length} retries`);
      assert.deepEqual(retries, retries.map((_, index) => index + 1));
      const waited = retries.reduce((sum, attempt) => sum + Math.min(2 ** (attempt - 1), 100), 0);
      assert.ok(elapsed >= waited && elapsed < 200 + 1000, `gave up after ${elapsed} ms having waited ${waited} ms`);
    } finally {
      await handle.close();
    }
  });

  it('stops retrying when cancelled', async () => {
    const binary = path.join(dir, 'busy');
    const handle = await fs.open(binary, 'w', 0o755);
    try {
      await handle.writeFile(await fs.readFile('/bin/true'));
      const controller = new AbortController();
      await assert.rejects(
        runTool(binary, [], { signal: controller.signal, onRetry: () => controller.abort() }),
        (error) => isQmError(error, 'ECANCELLED'),
      );
    } finally {
      await handle.close();
    }
  });

  it('kills the child when cancelled, and runTool rejects with ECANCELLED', async () => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    try {
      const controller = new AbortController();
      const connected = once(server, 'connection') as Promise<[net.Socket]>;
      const running = runTool(process.execPath, ['-e', `require('net').connect(${port}, '127.0.0.1'); setInterval(() => {}, 1000)`], {
        signal: controller.signal,
      });
      const [socket] = await connected;
      socket.resume();
      const closed = once(socket, 'close');
      controller.abort();
      await assert.rejects(running, (error) => isQmError(error, 'ECANCELLED'));
      await closed;
    } finally {
      server.close();
    }
  });

  it('kills a child from spawnTool when cancelled', async () => {
    const controller = new AbortController();
    const child = await spawnTool('sh', ['-c', 'echo started; exec sleep 60'], {
      env: { PATH: SYSTEM_PATH },
      stdio: ['ignore', 'pipe', 'inherit'],
      signal: controller.signal,
    });
    await once(child.stdout!, 'data');
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    controller.abort();
    assert.deepEqual(await exited, [null, 'SIGTERM']);
  });

  it('rejects at once when already cancelled', async () => {
    await assert.rejects(runTool('/bin/true', [], { signal: AbortSignal.abort() }), (error) => isQmError(error, 'ECANCELLED'));
  });
});
