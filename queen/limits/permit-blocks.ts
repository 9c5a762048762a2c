// Requests an isolate may let through without asking a subject's RateLimiter. The limiter grants
// a block of them at a time (RateLimiter.reserve), counted at once against the subject's windows,
// and the isolate spends one per request until the block is spent or its window closes. A client
// under its limits then costs one Durable Object call per block, not one per request: that call
// was on every request's path, and with the per-address floor beside the per-key one, two.
//
// Near a limit the limiter grants only what is left, so refusals still come at the limit's count.
// What a block holds unspent when its window closes was counted and never used: that errs towards
// refusing a little early, by at most one block per isolate, which PERMIT_BLOCK_SHARE keeps to a
// fiftieth of the smallest limit (a limit under 100 gets blocks of one: exact, as an admin's rpm of
// 60 should be). Token limits are asked every time: their windows fill after the answers.
import { BoundedMap } from "../../shared/bounded-map.js";
import type { Limit } from "./limit.js";

/** A block is at most this share of the smallest limit it counts against. */
export const PERMIT_BLOCK_SHARE = 1 / 50;
/** Subjects whose blocks one isolate holds at once; the oldest go first (a flood of addresses). */
const MAX_SUBJECTS = 10_000;

interface Block {
  /** The limits the block was counted against: other limits (a changed config) need a new one. */
  limitsKey: string;
  left: number;
  untilMs: number;
}

const blocks = new BoundedMap<string, Block>(MAX_SUBJECTS);
/** The reservation in flight per subject: concurrent requests share it rather than each reserve a block. */
const reserving = new Map<string, Promise<unknown>>();

/** How many requests to reserve at once against `limits`: 1 (ask every time) when any is a token limit or small. */
export function permitBlockSize(limits: readonly Limit[]): number {
  if (limits.some((limit) => limit.unit === "tokens")) return 1;
  return Math.max(1, Math.floor(Math.min(...limits.map((limit) => limit.max)) * PERMIT_BLOCK_SHARE));
}

/** Spends one request of `subject`'s block for `limits`; false when there is none left to spend. */
export function spendPermit(subject: string, limits: readonly Limit[], nowMs: number): boolean {
  const block = blocks.get(subject);
  if (!block || block.left === 0 || nowMs >= block.untilMs || block.limitsKey !== limitsKey(limits)) return false;
  block.left -= 1;
  return true;
}

/** Keeps what a reserve granted beyond the request that asked: `granted - 1` to spend until `untilMs`. */
export function keepPermits(subject: string, limits: readonly Limit[], granted: number, untilMs: number): void {
  if (granted > 1) blocks.set(subject, { limitsKey: limitsKey(limits), left: granted - 1, untilMs });
  else blocks.delete(subject);
}

function limitsKey(limits: readonly Limit[]): string {
  return limits.map((limit) => `${limit.name}:${limit.max}/${limit.windowMs}${limit.unit === "tokens" ? "t" : ""}${limit.aligned ? "a" : ""}`).join(",");
}

/**
 * Runs `reserve` for `subject` as the one reservation in flight in this isolate; the requests that
 * arrive meanwhile wait for it (reservationOf) and spend from what it brings.
 */
export async function reserveAlone<T>(subject: string, reserve: () => Promise<T>): Promise<T> {
  const reservation = reserve();
  reserving.set(subject, reservation);
  try {
    return await reservation;
  } finally {
    if (reserving.get(subject) === reservation) reserving.delete(subject);
  }
}

/** `subject`'s reservation in flight, settled either way, or undefined when there is none. */
export function reservationOf(subject: string): Promise<unknown> | undefined {
  return reserving.get(subject)?.catch(() => undefined);
}
