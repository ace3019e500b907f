// Last-used times, gathered on the hot path in memory and written in batches off it.
import type { DomainContext } from './context.js';

export class UsageRecorder {
  private pending = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  /** Number of batches written so far (tests count database writes through it). */
  batchesWritten = 0;

  constructor(
    private readonly context: DomainContext,
    private readonly flushIntervalMs = 2_000,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  record(credentialId: string, at: string): void {
    this.pending.set(credentialId, at);
  }

  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.context.store
      .transaction((repositories) => repositories.credentials.recordLastUsed(batch))
      .then(() => {
        this.batchesWritten += 1;
      })
      .finally(() => {
        this.flushing = null;
      });
    await this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
