// The bounded event log of one job, kept in its JobSession's Durable Object storage so a late
// or reconnecting watcher gets what it missed. Only the newest MAX_LOGGED_EVENTS are kept: the
// terminal event is always the newest, so a watcher always learns how the job ended.
import { StampedJobEvent } from "../../shared/protocol/job-event.js";

/** Events kept per job; older ones are dropped as new ones arrive. */
export const MAX_LOGGED_EVENTS = 1000;

const EVENT_KEY_PREFIX = "event:";

/** Zero-padded so storage lists keys in sequence order. */
function eventKey(seq: number): string {
  return EVENT_KEY_PREFIX + String(seq).padStart(12, "0");
}

export class JobLog {
  constructor(private readonly storage: DurableObjectStorage) {}

  /** Stores `event` and the `alongside` entries in one atomic write: all of them, or none. */
  async append(event: StampedJobEvent, alongside: Record<string, unknown> = {}): Promise<void> {
    await this.storage.put({ ...alongside, [eventKey(event.seq)]: event });
    const dropped = event.seq - MAX_LOGGED_EVENTS;
    if (dropped > 0) await this.storage.delete(eventKey(dropped));
  }

  /** The newest `count` logged events, newest first. */
  async newest(count: number): Promise<StampedJobEvent[]> {
    const stored = await this.storage.list({ prefix: EVENT_KEY_PREFIX, reverse: true, limit: count });
    return [...stored.values()].flatMap((value) => {
      const parsed = StampedJobEvent.safeParse(value);
      return parsed.success ? [parsed.data] : [];
    });
  }

  /** Logged events with `seq` greater than `afterSeq`, oldest first. */
  async since(afterSeq: number): Promise<StampedJobEvent[]> {
    const stored = await this.storage.list({ prefix: EVENT_KEY_PREFIX, start: eventKey(afterSeq + 1) });
    const events: StampedJobEvent[] = [];
    for (const value of stored.values()) {
      // Written by this code, but re-validated: storage outlives deploys.
      const parsed = StampedJobEvent.safeParse(value);
      if (parsed.success) events.push(parsed.data);
    }
    return events;
  }
}
