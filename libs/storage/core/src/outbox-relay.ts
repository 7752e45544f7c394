import type { OutboxEntry, OutboxOrigin, OutboxSource } from './outbox';

export type OutboxPublisher = (entry: OutboxEntry, origin: OutboxOrigin) => Promise<void>;

export interface OutboxRelayErrorContext {
  readonly phase: 'read' | 'publish' | 'clear' | 'poll';
  readonly collection?: string;
  readonly documentId?: string;
  readonly entryId?: string;
}

export interface OutboxRelayOptions {
  readonly sources: readonly OutboxSource[];
  /** Must resolve only once the broker has the entry; a rejection leaves it pending. */
  readonly publish: OutboxPublisher;
  /** Documents read per source per poll (default 100). */
  readonly batchSize?: number;
  /** Pause between polls when there was nothing more to do (default 1000 ms). */
  readonly intervalMs?: number;
  /** Called for every failure; the relay itself keeps going. Defaults to console.error. */
  readonly onError?: (error: unknown, context: OutboxRelayErrorContext) => void;
}

export interface OutboxPollResult {
  readonly documents: number;
  readonly published: number;
  readonly cleared: number;
  readonly failures: number;
}

/**
 * Delivers outbox entries at least once: read pending documents, publish their entries in
 * order, then remove exactly the published ids. A crash after publishing and before clearing
 * republishes on the next poll (consumers deduplicate on the entry id); an entry is only ever
 * removed after `publish` resolved for it, so none is lost. Within one document, a failed
 * entry stops the entries behind it, keeping per-document order.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private readonly onError: (error: unknown, context: OutboxRelayErrorContext) => void;
  private readonly cursors = new Map<OutboxSource, string | undefined>();
  private inFlight: Promise<OutboxPollResult> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 100;
    this.intervalMs = options.intervalMs ?? 1000;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1)
      throw new RangeError('batchSize must be a positive integer');
    if (!Number.isFinite(this.intervalMs) || this.intervalMs < 0)
      throw new RangeError('intervalMs must be >= 0');
    this.onError =
      options.onError ??
      ((error, context) =>
        console.error(`outbox relay ${context.phase} failed`, {
          ...context,
          error: describe(error),
        }));
  }

  get running(): boolean {
    return this.loop !== undefined;
  }

  /** One pass over every source. Concurrent calls share the pass in progress. */
  pollOnce(): Promise<OutboxPollResult> {
    if (!this.inFlight) {
      this.inFlight = this.poll().finally(() => {
        this.inFlight = undefined;
      });
    }
    return this.inFlight;
  }

  /** Polls until `stop()`; immediately again while sources return full batches. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Stops the loop and waits for the pass in progress to finish. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let busy = false;
      try {
        const result = await this.pollOnce();
        busy = result.documents >= this.batchSize;
      } catch (error) {
        this.onError(error, { phase: 'poll' });
      }
      if (this.stopping) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, busy ? 0 : this.intervalMs);
      });
      this.wake = undefined;
    }
  }

  private async poll(): Promise<OutboxPollResult> {
    let documents = 0;
    let published = 0;
    let cleared = 0;
    let failures = 0;
    for (const source of this.options.sources) {
      let pending;
      try {
        pending = await source.pendingOutbox({
          limit: this.batchSize,
          after: this.cursors.get(source),
        });
      } catch (error) {
        failures++;
        this.onError(error, { phase: 'read', collection: source.collection });
        continue;
      }
      // Page through the collection across polls so a few stuck documents cannot starve the rest.
      this.cursors.set(
        source,
        pending.length >= this.batchSize ? pending.at(-1)?.cursor : undefined,
      );
      documents += pending.length;
      for (const item of pending) {
        const origin = {
          collection: item.collection,
          tenantId: item.tenantId,
          documentId: item.documentId,
        };
        const done: string[] = [];
        for (const entry of item.entries) {
          try {
            await this.options.publish(entry, origin);
            done.push(entry.id);
          } catch (error) {
            failures++;
            this.onError(error, {
              phase: 'publish',
              collection: item.collection,
              documentId: item.documentId,
              entryId: entry.id,
            });
            break;
          }
        }
        published += done.length;
        if (done.length === 0) continue;
        try {
          cleared += await source.clearOutbox(item.tenantId, item.documentId, done);
        } catch (error) {
          // Published but not cleared: the next poll publishes these again (at-least-once).
          failures++;
          this.onError(error, {
            phase: 'clear',
            collection: item.collection,
            documentId: item.documentId,
          });
        }
      }
    }
    return { documents, published, cleared, failures };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
