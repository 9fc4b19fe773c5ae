/** Bytes per second over a sliding window, so a stall shows as a falling rate, not a frozen one. */
export class RateMeter {
  private readonly samples: Array<{ at: number; bytes: number }> = [];

  constructor(private readonly windowMs = 3_000, private readonly now: () => number = Date.now) {}

  /** Records the running total of bytes and returns the current rate. */
  update(totalBytes: number): number {
    const at = this.now();
    this.samples.push({ at, bytes: totalBytes });
    while (this.samples.length > 2 && at - this.samples[0]!.at > this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const elapsed = at - first.at;
    return elapsed > 0 ? Math.max(0, ((totalBytes - first.bytes) * 1000) / elapsed) : 0;
  }
}
