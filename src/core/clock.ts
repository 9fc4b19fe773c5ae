/**
 * Milliseconds on a monotonic clock, as performance.now() gives them but without loading
 * node:perf_hooks: the code `qm exec` runs at start-up (leases, spawning) reads the time through
 * this (src/cli/entry.ts; the fast-path test lists what start-up loads).
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
