// How the queen refuses a request pinned to a hive (`model@hive`) that is not connected: 503
// hive_not_connected with Retry-After while the hive is registered (it may come back), 404
// hive_not_found when no hive of that name is (it never will: clients must not retry). The
// inference route and GET /v1/models/name@hive answer alike, and both leave as an RbeeError.
import { RbeeError } from "../../shared/errors.js";
import { findHive } from "../hives/hive-records.js";
import { HIVE_NOT_CONNECTED, hiveNotConnected, type Refusal } from "./dispatcher.js";

/**
 * `refusal`, or a 404 when it is for `model@hive` naming a hive that is not connected and not
 * registered either. Asked of D1 only on this refusal, never on the way of a request that is placed.
 */
export async function unknownHiveRefusal(db: D1Database, hive: string | undefined, refusal: Refusal): Promise<Refusal> {
  if (refusal.code !== HIVE_NOT_CONNECTED || hive === undefined || (await findHive(db, hive)) !== undefined) return refusal;
  return { ok: false, status: 404, code: "hive_not_found", message: `No hive named '${hive}' is registered: model@hive pins the hive named after the last '@'.` };
}

/** The refusal of a request pinned to `hive`, which is not connected. */
export function absentHiveRefusal(db: D1Database, hive: string): Promise<Refusal> {
  return unknownHiveRefusal(db, hive, hiveNotConnected(hive));
}

/** A scheduling refusal as the error a client reads: the model named as the field at fault where it is. */
export function refusalError({ status, code, message, retryAfterSeconds, final }: Refusal): RbeeError {
  return new RbeeError(status, code, message, {
    ...(code === "model_not_found" || code === "hive_not_found" ? { param: "model" } : {}),
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    ...(final === true ? { final } : {}),
  });
}
