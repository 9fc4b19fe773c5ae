// A mirror in its own process, so the benchmarked client does not share an event loop with it.
// Forked with IPC: answers {type:'stats'} and {type:'reset'} messages.
import { createHash } from 'node:crypto';
import { MirrorServer } from '../test/fixtures/mirror-server';

/** Incompressible, deterministic bytes: a SHA-256 hash chain, as fast as hashing. */
function chain(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let block = createHash('sha256').update('quartermaster-bench').digest();
  for (let offset = 0; offset < size; offset += block.length) {
    block.copy(out, offset);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

async function serve(): Promise<void> {
  const size = Number(process.argv[2] ?? 200 * 1024 * 1024);
  const server = await MirrorServer.start();
  const path = '/bench/artifact.bin';
  const file = server.addFile(path, chain(size));
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stats') process.send!({ type: 'stats', stats: server.stats(path) });
    if (message.type === 'reset') {
      server.resetStats();
      process.send!({ type: 'reset' });
    }
  });
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
  process.send!({ type: 'ready', ...file, path });
}

void serve();
