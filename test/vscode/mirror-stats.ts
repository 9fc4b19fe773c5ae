/**
 * The client of the fixture mirror's stats endpoint (test/e2e/mirror-stats-server.ts), for tests
 * running in the extension host: how often was a path asked for, and waiting until it was.
 */
import type { CountField } from '../e2e/mirror-stats-server';
import type { PathStats } from '../fixtures/mirror-server';

export type { CountField, PathStats };

function statsUrl(): string {
  const url = process.env.QM_TEST_MIRROR_STATS;
  if (url === undefined || url === '') throw new Error('QM_TEST_MIRROR_STATS is not set: run the suite through npm run test:vscode');
  return url;
}

async function ask(pathAndQuery: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(`${statsUrl()}${pathAndQuery}`, init);
  if (!response.ok) throw new Error(`mirror stats ${pathAndQuery}: ${response.status} ${await response.text()}`);
  return response;
}

/** A snapshot of what the mirror served at `path` (e.g. '/dist/index.json'); zeros if never asked. */
export async function mirrorStats(path: string): Promise<PathStats> {
  return (await (await ask(`/stats?${new URLSearchParams({ path }).toString()}`)).json()) as PathStats;
}

/** Resolves once the mirror's `field` count for `path` reaches `atLeast`; the mirror answers when it does. */
export async function waitForMirror(path: string, field: CountField, atLeast: number, signal?: AbortSignal): Promise<PathStats> {
  const query = new URLSearchParams({ path, field, atLeast: String(atLeast) });
  return (await (await ask(`/stats/wait?${query.toString()}`, signal === undefined ? {} : { signal })).json()) as PathStats;
}

export async function resetMirrorStats(): Promise<void> {
  await ask('/stats/reset', { method: 'POST' });
}
