import { QmError } from '../core/errors';

/**
 * The run's cancellation: Ctrl-C cancels the work (downloads, waits) and lets the error boundary
 * clean up; a second Ctrl-C exits at once. SIGTERM cancels too.
 */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    controller.abort(new QmError('ECANCELLED', 'Interrupted'));
    process.once('SIGINT', () => process.exit(130));
  });
  process.once('SIGTERM', () => controller.abort(new QmError('ECANCELLED', 'Terminated')));
  return controller.signal;
}
