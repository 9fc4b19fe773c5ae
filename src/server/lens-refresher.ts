/**
 * Asks the client to fetch code lenses again (workspace/codeLens/refresh) when the view
 * changes: at once for new answers, at most every `intervalMs` while a download reports
 * progress, and never with a request still unanswered.
 */
export class LensRefresher {
  private timer: NodeJS.Timeout | undefined;
  private inflight = false;
  private again = false;
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly send: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs = 250,
    private readonly now: () => number = Date.now,
  ) {}

  request(urgent: boolean): void {
    if (this.inflight) {
      this.again = true;
      return;
    }
    if (this.timer) {
      if (!urgent) return;
      clearTimeout(this.timer);
    }
    const wait = urgent ? 0 : Math.max(0, this.lastAt + this.intervalMs - this.now());
    this.timer = setTimeout(() => this.fire(), wait);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    this.inflight = true;
    this.lastAt = this.now();
    void this.send()
      .catch(this.onError)
      .finally(() => {
        this.inflight = false;
        if (this.again) {
          this.again = false;
          this.request(false);
        }
      });
  }
}
