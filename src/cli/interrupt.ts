import { QmError } from '../core/errors';

/**
 * The run's cancellation: Ctrl-C cancels the work (downloads, waits) and lets the error boundary
 * clean up; a second Ctrl-C exits at once. SIGTERM likewise. The listeners stay registered
 * (not `once`): signal-exit (under proper-lockfile) re-raises a signal, killing the process,
 * when it finds itself the only listener left, which a `once` listener is not while it runs.
 */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new QmError('ECANCELLED', 'Interrupted'));
  });
  process.on('SIGTERM', () => {
    if (controller.signal.aborted) process.exit(143);
    controller.abort(new QmError('ECANCELLED', 'Terminated'));
  });
  return controller.signal;
}
