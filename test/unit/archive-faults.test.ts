import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Header, Pax } from 'tar';
import { isQmError } from '../../src/core/errors';
import { StreamingExtraction } from '../../src/core/install/streaming-extraction';
import type { ResolvedToolchain } from '../../src/core/providers/types';
import { createCore, type CoreServices } from '../../src/core/services';
import { MirrorServer } from '../fixtures/mirror-server';
import { incompressiblePayload } from '../fixtures/toolchain-archive';
import { listFiles, tempHome } from '../helpers/temp-home';

/** One tar member (a PAX header first when its name does not fit ustar), padded to 512 bytes. */
function member(name: string, data: string | Buffer, mode = 0o644): Buffer[] {
  const body = Buffer.from(data);
  const header = Buffer.alloc(512);
  const long = Buffer.byteLength(name) > 100;
  new Header({ path: long ? 'long-name' : name, type: 'File', size: body.length, mode, uid: 0, gid: 0, mtime: new Date(0) }).encode(header, 0);
  return [...(long ? [new Pax({ path: name }).encode()] : []), header, body, Buffer.alloc((512 - (body.length % 512)) % 512)];
}

function tarGz(members: Buffer[][]): Buffer {
  // Level 0: stored blocks, so a byte of the tar sits at a known place in the .tar.gz and a flipped
  // byte reaches the extractor as it is (a tar header checksum failure, not a zlib error).
  return gzipSync(Buffer.concat([...members.flat(), Buffer.alloc(1024)]), { level: 0 });
}

const NODE = member('top/bin/node', '#!/bin/sh\necho fixture\n', 0o755);
/** The name of the member whose header a corrupt byte hits, after enough data to put the extractor behind. */
const AFTER = 'top/after-the-payload.txt';

describe('a corrupt byte is a retry, an unusable verified archive is EARCHIVE', () => {
  let server: MirrorServer;
  let home: string;
  let dispose: () => Promise<void>;
  let core: CoreServices;

  before(async () => (server = await MirrorServer.start()));
  after(() => server.close());
  beforeEach(async () => {
    ({ home, dispose } = await tempHome());
    core = createCore({ home });
  });
  afterEach(async () => {
    await core.close();
    await dispose();
  });

  function toolchain(name: string, body: Buffer): ResolvedToolchain & { path: string } {
    const file = server.addFile(`/${name}.tar.gz`, body);
    return {
      path: `/${name}.tar.gz`,
      tool: 'node',
      version: name,
      upstreamVersion: `v${name}`,
      platform: 'linux-x64',
      url: file.url,
      sha256: file.sha256,
      archive: 'tar.gz',
      stripComponents: 1,
      binDirs: ['bin'],
      executables: ['node'],
    };
  }

  it('holds an extraction error until the digest is known, even when it strikes while the download waits for the extractor', async () => {
    const archive = tarGz([NODE, member('top/payload.bin', incompressiblePayload('held', 8 * 1024 * 1024))]);
    archive[archive.indexOf('top/payload.bin') + 110]! ^= 0xff;
    const extraction = new StreamingExtraction('tar.gz', path.join(home, 'staging'), 1);
    // Writes larger than the extractor's buffer: each one waits for it to drain, so the header
    // failure comes while a write is waiting, as it does when the network outpaces the disk.
    for (let offset = 0; offset < archive.length; offset += 4 * 1024 * 1024) {
      await extraction.tee.write(archive.subarray(offset, offset + 4 * 1024 * 1024));
    }
    assert.equal(extraction.sawWhole(archive.length), true, 'every byte was taken (and hashed by the downloader)');
    await assert.rejects(extraction.finish(), (error) => isQmError(error, 'EARCHIVE') && /checksum/.test(error.message));
    await extraction.stop();
  });

  it('one byte flipped in transit in a tar header: retried as EINTEGRITY, installed from the second download', async () => {
    const archive = tarGz([NODE, member('top/payload.bin', incompressiblePayload('flip', 4 * 1024 * 1024)), member(AFTER, 'intact\n')]);
    const flipped = toolchain('1.0.1', archive);
    server.fault(flipped.path, { kind: 'corrupt', atByte: archive.indexOf(AFTER) + 110, times: 1 });
    const installed = await core.installer.install(flipped);
    assert.equal(server.stats(flipped.path).gets, 2);
    assert.equal(await fs.readFile(path.join(installed.dir, 'after-the-payload.txt'), 'utf8'), 'intact\n');
    assert.deepEqual(await listFiles(core.layout.tmpDir), []);
  });

  it('a mirror that corrupts every download: EINTEGRITY after two tries, never EARCHIVE, and the bytes are not kept', async () => {
    const archive = tarGz([NODE, member('top/payload.bin', incompressiblePayload('always', 1024 * 1024)), member(AFTER, 'x')]);
    const flipped = toolchain('1.0.2', archive);
    server.fault(flipped.path, { kind: 'corrupt', atByte: archive.indexOf(AFTER) + 110 });
    await assert.rejects(core.installer.install(flipped), (error) => isQmError(error, 'EINTEGRITY'));
    assert.equal(server.stats(flipped.path).gets, 2);
    await assert.rejects(fs.access(core.layout.blobPath(flipped.sha256)));
    assert.deepEqual(await listFiles(core.layout.tmpDir), []);
  });

  it('a flipped byte only the gzip CRC would see (extraction skips the CRC) never publishes: the SHA-256 refuses it', async () => {
    const archive = tarGz([NODE, member(AFTER, 'intact\n')]);
    const flipped = toolchain('1.0.5', archive);
    // Inside a file's data in a stored block: inflates cleanly, the tree just has a wrong byte.
    server.fault(flipped.path, { kind: 'corrupt', atByte: archive.indexOf('intact\n') });
    await assert.rejects(core.installer.install(flipped), (error) => isQmError(error, 'EINTEGRITY'));
    assert.equal(server.stats(flipped.path).gets, 2);
    assert.deepEqual(await listFiles(core.layout.toolchainsDir), []);
    await assert.rejects(fs.access(core.layout.blobPath(flipped.sha256)));
    assert.deepEqual(await listFiles(core.layout.tmpDir), []);
  });

  it('a verified download that is not gzip at all is EARCHIVE, and its blob goes', async () => {
    const garbage = toolchain('1.0.3', randomBytes(64 * 1024));
    await assert.rejects(core.installer.install(garbage), (error) => isQmError(error, 'EARCHIVE') && /corrupt/.test(error.message));
    await assert.rejects(fs.access(core.layout.blobPath(garbage.sha256)), 'a verified archive that cannot be unpacked is not kept');
    assert.deepEqual(await listFiles(core.layout.toolchainsDir), []);
    assert.deepEqual(await listFiles(core.layout.tmpDir), []);
  });

  it('a name longer than the file system allows is EARCHIVE, and its blob goes', async () => {
    const long = toolchain('1.0.4', tarGz([NODE, member(`top/${'n'.repeat(300)}`, 'x')]));
    await assert.rejects(core.installer.install(long), (error) => isQmError(error, 'EARCHIVE') && /longer than the file system allows/.test(error.message));
    await assert.rejects(fs.access(core.layout.blobPath(long.sha256)));
    assert.deepEqual(await listFiles(core.layout.tmpDir), []);
  });
});
