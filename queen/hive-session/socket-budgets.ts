// What one hive socket may cost the queen: frames a second (a hive over it is closed), refused
// frames logged, and error frames sent back (a hive sending frames it knows will be refused, a
// thousand made-up workers in a heartbeat, gets no flood of errors back, nor floods the logs).
// Per socket and in memory: an object woken from hibernation starts each socket with full buckets.
import type { BatchableFrame, HiveToQueenFrame } from "../../shared/protocol/hive-frames.js";
import { TokenBucket } from "../../shared/token-bucket.js";

/** Refused frames logged, and errors sent, per socket: 10 at once, then one a second. */
const REFUSED_FRAME_RATE = { burst: 10, perSecond: 1 };

export interface FrameRate {
  hiveFrameBurst: number;
  hiveFramesPerSecond: number;
}

export class SocketBudgets {
  private readonly frameBuckets = new WeakMap<WebSocket, TokenBucket>();
  private readonly logBuckets = new WeakMap<WebSocket, TokenBucket>();
  private readonly errorBuckets = new WeakMap<WebSocket, TokenBucket>();

  /** `rate`: read when a socket's first frame comes (the queen's config). */
  constructor(private readonly rate: () => FrameRate) {}

  /** Whether a message from `ws` may be read at all now; false once it sent more frames than its rate lets it. */
  mayReceive(ws: WebSocket): boolean {
    return this.frames(ws).take();
  }

  /** Whether the frames beyond one that the message `frame` carries (a batch, heartbeats of many workers) fit too: it costs what they would alone. */
  mayCarry(ws: WebSocket, frame: HiveToQueenFrame | BatchableFrame): boolean {
    const more = frameWeight(frame) - 1;
    return more <= 0 || this.frames(ws).take(more);
  }

  /** Whether a refusal of `ws`'s frames may be logged now. */
  mayLog(ws: WebSocket): boolean {
    return this.bucket(this.logBuckets, ws, refusedFrameBucket).take();
  }

  /** Whether an error frame may be sent back to `ws` now (refusals are told at the rate they are logged). */
  mayTellError(ws: WebSocket): boolean {
    return this.bucket(this.errorBuckets, ws, refusedFrameBucket).take();
  }

  private frames(ws: WebSocket): TokenBucket {
    return this.bucket(this.frameBuckets, ws, () => {
      const { hiveFrameBurst, hiveFramesPerSecond } = this.rate();
      return new TokenBucket(hiveFrameBurst, hiveFramesPerSecond);
    });
  }

  private bucket(buckets: WeakMap<WebSocket, TokenBucket>, ws: WebSocket, make: () => TokenBucket): TokenBucket {
    let bucket = buckets.get(ws);
    if (!bucket) {
      bucket = make();
      buckets.set(ws, bucket);
    }
    return bucket;
  }
}

function refusedFrameBucket(): TokenBucket {
  return new TokenBucket(REFUSED_FRAME_RATE.burst, REFUSED_FRAME_RATE.perSecond);
}

/** How many frames `frame` counts as against the hive's rate limit: a batch its frames, heartbeats one a worker. */
function frameWeight(frame: HiveToQueenFrame | BatchableFrame): number {
  if (frame.type === "batch") return frame.frames.reduce((sum, each) => sum + frameWeight(each), 0);
  if (frame.type === "worker_heartbeats") return Math.max(1, frame.heartbeats.length);
  return 1;
}
