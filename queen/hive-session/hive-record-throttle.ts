// What a hive says about its machine (hello) and its devices (hive_status) reaches D1 at most
// once per HIVE_RECORD_MIN_INTERVAL_MS per hive: a hive reconnecting in a loop or sending status
// frames in a flood costs one write per interval, not one per frame. A fact that arrives too soon
// is not lost: the newest one waits in the HiveSession's storage and its alarm writes it.
import type { HiveDevices } from "../../shared/protocol/hive-devices.js";
import { HIVE_RECORD_MIN_INTERVAL_MS } from "../../shared/protocol/hive-socket-limits.js";
import { recordHiveCapabilities, recordHiveDevices } from "../hives/hive-records.js";

/** Storage key of when the last write happened (ms); tests age it to skip the wait. */
export const LAST_WRITE_KEY = "record:lastWriteAtMs";
export const PENDING_KEY = "record:pending";

/** A hello's machine facts (devices included), or a status refresh's devices alone. */
export type HiveFacts = { capabilities: Record<string, unknown> & { devices: HiveDevices } } | { devices: HiveDevices };

interface Pending {
  hiveName: string;
  capabilities?: Record<string, unknown>;
  devices?: HiveDevices;
}

export class HiveRecordThrottle {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly db: D1Database,
  ) {}

  /**
   * Keeps `facts` as the newest to write; `flushDue` writes them when the interval allows. Storage
   * only, so no other event of the object runs meanwhile: facts are kept in the order it receives them.
   */
  async keep(hiveName: string, facts: HiveFacts): Promise<void> {
    const previous = (await this.storage.get<Pending>(PENDING_KEY)) ?? { hiveName };
    // The newest of each kind wins; a hello carries devices too, so it replaces older devices.
    const pending: Pending =
      "capabilities" in facts
        ? { hiveName, capabilities: facts.capabilities, devices: facts.capabilities.devices }
        : { ...previous, hiveName, devices: facts.devices };
    await this.storage.put(PENDING_KEY, pending);
  }

  /** When the waiting facts may be written, or undefined when none wait. */
  async dueAtMs(): Promise<number | undefined> {
    if ((await this.storage.get(PENDING_KEY)) === undefined) return undefined;
    return ((await this.storage.get<number>(LAST_WRITE_KEY)) ?? 0) + HIVE_RECORD_MIN_INTERVAL_MS;
  }

  /** Writes the waiting facts if their time has come. */
  async flushDue(nowMs: number): Promise<void> {
    const due = await this.dueAtMs();
    if (due === undefined || nowMs < due) return;
    const pending = await this.storage.get<Pending>(PENDING_KEY);
    if (!pending) return;
    // Taken before the write: a failed write is logged, not retried forever by every alarm.
    await this.storage.delete(PENDING_KEY);
    await this.storage.put(LAST_WRITE_KEY, nowMs);
    if (pending.capabilities) {
      await recordHiveCapabilities(this.db, pending.hiveName, { ...pending.capabilities, ...(pending.devices ? { devices: pending.devices } : {}) });
    } else if (pending.devices) {
      await recordHiveDevices(this.db, pending.hiveName, pending.devices);
    }
  }
}
