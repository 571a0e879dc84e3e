import type { FairUseLimit as Limit } from '../mock/fairuse.js';

/** A call's place in its account holder's queue. */
export interface Slot {
  /** When it is (to be) forwarded; once settled, when the target had certainly received it. */
  at: number;
  settled: boolean;
}

export type Verdict =
  /** Wait `delayMs` (0: go at once), then ask `wait` again; the slot is already taken. */
  | { forward: true; slot: Slot; delayMs: number }
  /** The wait would exceed the maximum: answer 429 locally; nothing was taken. */
  | { forward: false; retryAfterSeconds: number };

/** While a call that decides the wait is still in flight, look again this often. */
const POLL_MS = 25;

/**
 * The proxy's fair-use hold-back: per account holder, a queue of its calls in
 * the order they came (first come, first forwarded). A call takes the
 * earliest time that keeps every sliding window under its limit; taking a
 * slot is synchronous, so concurrent calls can never overbook a window.
 *
 * DEMO counts calls when they arrive, and the proxy cannot see that moment:
 * a call is counted from when it was sent until its answer came back (the
 * arrival lies between), and the call `limit` places later waits for that
 * answer, plus a window and a margin (a twentieth of the window, at most a
 * second) against clock and latency differences.
 */
export class HoldBack {
  private readonly queues = new Map<string, Slot[]>();
  private readonly longestMs: number;

  constructor(
    readonly limits: readonly Limit[],
    readonly maxWaitMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.longestMs = Math.max(0, ...limits.map((limit) => limit.windowSeconds * 1000 + marginMs(limit)));
  }

  take(key: string): Verdict {
    const now = this.now();
    const queue = this.prune(key, now);
    const at = this.earliest(queue, queue.length, now);
    const delayMs = at - now;
    if (delayMs > this.maxWaitMs) return { forward: false, retryAfterSeconds: Math.max(1, Math.ceil(delayMs / 1000)) };
    const slot: Slot = { at, settled: false };
    queue.push(slot);
    this.queues.set(key, queue);
    return { forward: true, slot, delayMs };
  }

  /** How much longer a held call must wait, now that calls before it may have been answered; 0: forward it now. */
  wait(key: string, slot: Slot): number {
    const now = this.now();
    const queue = this.queues.get(key) ?? [];
    const index = queue.indexOf(slot);
    if (index < 0) return 0;
    for (const limit of this.limits) {
      const blocking = queue[index - limit.requests];
      if (blocking && !blocking.settled) return POLL_MS;
    }
    slot.at = this.earliest(queue, index, now);
    return slot.at - now;
  }

  /** The call was answered (or failed) at `time`: the target had it by then. */
  settle(slot: Slot, time: number = this.now()): void {
    slot.at = Math.max(slot.at, time);
    slot.settled = true;
  }

  /** The account holders with calls in a window now, and how many each has. */
  snapshot(): Record<string, number> {
    const now = this.now();
    const out: Record<string, number> = {};
    for (const key of [...this.queues.keys()]) {
      const queue = this.prune(key, now);
      if (queue.length) out[key] = queue.length;
    }
    return out;
  }

  /** The earliest time the call at `index` may go: after the one before it, and once the call `requests` places back has left each window. */
  private earliest(queue: Slot[], index: number, now: number): number {
    let at = Math.max(now, queue[index - 1]?.at ?? now);
    for (const limit of this.limits) {
      const blocking = queue[index - limit.requests];
      if (blocking) at = Math.max(at, blocking.at + limit.windowSeconds * 1000 + marginMs(limit));
    }
    return at;
  }

  /** Drops answered calls no window can see any more; forgets account holders without any. */
  private prune(key: string, now: number): Slot[] {
    const queue = this.queues.get(key) ?? [];
    let old = 0;
    while (old < queue.length && queue[old].settled && queue[old].at <= now - this.longestMs) old++;
    if (old) queue.splice(0, old);
    if (!queue.length) this.queues.delete(key);
    return queue;
  }
}

function marginMs(limit: Limit): number {
  return Math.min(1000, (limit.windowSeconds * 1000) / 20);
}

/** Limits from `--limits` JSON, or why they are not. */
export function parseLimits(text: string): Limit[] | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `--limits is not JSON (${(error as Error).message})`;
  }
  const ok =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (limit) =>
        typeof limit === 'object' && limit !== null && Number.isInteger(limit.requests) && limit.requests > 0 && typeof limit.windowSeconds === 'number' && limit.windowSeconds > 0,
    );
  return ok ? (value as Limit[]).map(({ requests, windowSeconds }) => ({ requests, windowSeconds })) : '--limits must be a JSON array like [{"requests":100,"windowSeconds":60}] with positive numbers';
}
