// The Node.js dist fixture in its own process, for benchmarks. Forked with IPC; argv: payloadBytes.
import { MirrorServer } from '../test/fixtures/mirror-server';
import { publishNodeDist } from '../test/fixtures/node-dist';

async function serve(): Promise<void> {
  const payloadBytes = Number(process.argv[2] ?? 50 * 1024 * 1024);
  const server = await MirrorServer.start();
  const artifacts = await publishNodeDist(server, [{ version: 'v22.12.0', lts: 'Jod', date: '2024-12-03' }], { platforms: ['linux-x64'], payloadBytes });
  const archive = artifacts.find((a) => a.ext === 'tar.gz')!;
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stats') process.send!({ type: 'stats', stats: server.stats(archive.path) });
    if (message.type === 'reset') {
      server.resetStats();
      process.send!({ type: 'reset' });
    }
  });
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
  process.send!({ type: 'ready', url: archive.url, sha256: archive.sha256, size: archive.size, path: archive.path, mirror: `${server.url}/dist` });
}

void serve();
