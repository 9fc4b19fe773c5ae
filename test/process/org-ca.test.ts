import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { DEFAULT_GO_RELEASES, publishGoDist } from '../fixtures/go-dist';
import { MirrorServer } from '../fixtures/mirror-server';
import { DEFAULT_RELEASES, publishNodeDist } from '../fixtures/node-dist';
import { runQm, spawnQm, type Child, type ChildMessage } from '../helpers/child';
import { createTestCa, opensslMissing } from '../helpers/test-ca';
import { tempHome } from '../helpers/temp-home';

const timeout = 120_000;

/**
 * Two org mirrors over HTTPS, each signed by its own internal CA: Node's behind the CA that
 * NODE_EXTRA_CA_CERTS names, Go's behind the one QM_CA_CERTS names. The real CLI, and the real
 * coordinator it hands its job to, trust both at once: adding QM_CA_CERTS must not drop what
 * NODE_EXTRA_CA_CERTS added (a TLS `ca` list replaces Node's defaults).
 */
describe('qm and qm coordinator with extra CA certificates (QM_CA_CERTS beside NODE_EXTRA_CA_CERTS)', () => {
  let scratch: { home: string; dispose: () => Promise<void> };
  let nodeMirror: MirrorServer | undefined;
  let goMirror: MirrorServer | undefined;
  let caFiles: { node: string; go: string } | undefined;
  const children: Child[] = [];
  const missing = opensslMissing();

  before(async () => {
    scratch = await tempHome('qm-org-ca-');
    if (await missing) return;
    const [nodeCa, goCa] = await Promise.all([createTestCa(scratch.home, 'node-org'), createTestCa(scratch.home, 'go-org')]);
    nodeMirror = await MirrorServer.start({ tls: await nodeCa.issue('node-mirror') });
    goMirror = await MirrorServer.start({ tls: await goCa.issue('go-mirror') });
    await publishNodeDist(nodeMirror, DEFAULT_RELEASES, { platforms: ['linux-x64'] });
    await publishGoDist(goMirror, DEFAULT_GO_RELEASES, { platforms: ['linux-amd64'] });
    caFiles = { node: nodeCa.certFile, go: goCa.certFile };
  });
  after(async () => {
    await Promise.all(children.map((child) => child.kill()));
    await Promise.all([nodeMirror?.close(), goMirror?.close()]);
    await scratch.dispose();
  });

  async function world(t: TestContext, name: string): Promise<{ env: (extra?: NodeJS.ProcessEnv) => NodeJS.ProcessEnv; project: string } | undefined> {
    const why = await missing;
    if (why) t.skip(why);
    if (!nodeMirror || !goMirror || !caFiles) return undefined;
    const base = path.join(scratch.home, name);
    const project = path.join(base, 'project');
    await fs.mkdir(project, { recursive: true });
    const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
      QM_HOME: path.join(base, 'qm'),
      QM_PLATFORM: 'linux-x64',
      QM_MIRROR_NODE: `${nodeMirror!.url}/dist`,
      QM_MIRROR_GO: `${goMirror!.url}/dl`,
      NODE_EXTRA_CA_CERTS: caFiles!.node,
      QM_CA_CERTS: caFiles!.go,
      ...extra,
    });
    return { env, project };
  }

  it('qm install trusts both mirrors; without QM_CA_CERTS the Go mirror is refused', { timeout }, async (t) => {
    const w = await world(t, 'cli');
    if (!w) return;
    const both = await runQm(['install', 'node@22.12.0', 'go@1.23.4'], { cwd: w.project, env: w.env() });
    assert.equal(both.code, 0, both.stderr);
    const goOnly = await runQm(['install', 'go@1.22.10'], { cwd: w.project, env: w.env({ QM_CA_CERTS: '' }) });
    assert.equal(goOnly.code, 1, goOnly.stderr);
    assert.match(goOnly.stderr, /ENETWORK.*certificate/i);
  });

  it('qm coordinator trusts both, for the job a qm hands it', { timeout }, async (t) => {
    const w = await world(t, 'coordinator');
    if (!w) return;
    const coordinator = spawnQm(['coordinator', '--json'], { cwd: w.project, env: w.env() });
    children.push(coordinator);
    const role = await coordinator.waitFor((m: ChildMessage) => m.role === 'leader');
    const result = await runQm(['install', 'node@22.12.0', 'go@1.23.4', '--json'], { cwd: w.project, env: w.env({ QM_COORDINATOR: String(role.endpoint) }) });
    assert.equal(result.code, 0, result.stderr);
    const doc = JSON.parse(result.stdout) as { coordinator: boolean; tools: Array<{ tool: string }> };
    assert.equal(doc.coordinator, true, 'the coordinator did the work');
    assert.deepEqual(doc.tools.map((tool) => tool.tool).sort(), ['go', 'node']);
  });
});
