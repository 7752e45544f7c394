import { Injectable } from '@nestjs/common';

/**
 * Publications a handler owes the bus that nothing else would redo: a breaker trip or a refused
 * control event is observed once (the breaker windows and the applier deduplicate), so if
 * publishing it fails, the redelivered message no longer produces it. They are kept here until
 * sent: `publish` queues one under an id (the same id is sent once) and sends everything queued;
 * a failure leaves the rest queued and throws, so the bus retries the message, and the retry (or
 * any later handler calling `flush`) sends them.
 */
@Injectable()
export class PendingPublications {
  private readonly pending = new Map<string, () => Promise<void>>();

  async publish(id: string, send: () => Promise<void>): Promise<void> {
    if (!this.pending.has(id)) this.pending.set(id, send);
    await this.flush();
  }

  async flush(): Promise<void> {
    for (const [id, send] of [...this.pending]) {
      await send();
      this.pending.delete(id);
    }
  }

  get size(): number {
    return this.pending.size;
  }
}
