// The extraction worker's entry (bundled alone as out/extract-worker.js): one job per worker.
import { parentPort, workerData } from 'node:worker_threads';
import { QmError } from '../errors';
import { TarUnpacker } from './tar-unpacker';
import { serializeError, type FromWorker, type ToWorker, type UnpackJob } from './worker-protocol';

function post(message: FromWorker): void {
  parentPort!.postMessage(message);
}

async function run(job: UnpackJob): Promise<void> {
  // Messages that arrive while the decoder starts wait here, in order.
  const early: ToWorker[] = [];
  let handle = (message: ToWorker): void => void early.push(message);
  parentPort!.on('message', (message: ToWorker) => handle(message));
  let unpacker: TarUnpacker;
  try {
    unpacker = await TarUnpacker.start(job);
  } catch (error) {
    post({ type: 'failed', error: serializeError(error) });
    return;
  }
  handle = (message) => {
    if (message.type === 'data') {
      const bytes = message.chunk.byteLength;
      unpacker.write(Buffer.from(message.chunk.buffer, message.chunk.byteOffset, bytes), () => post({ type: 'consumed', bytes }));
    } else if (message.type === 'end') {
      unpacker.end();
    } else {
      unpacker.stop(new QmError('ECANCELLED', 'Extraction stopped'));
    }
  };
  for (const message of early.splice(0)) handle(message);
  try {
    post({ type: 'done', result: await unpacker.finished });
  } catch (error) {
    post({ type: 'failed', error: serializeError(error) });
  }
}

void run(workerData as UnpackJob);
