/**
 * The fair-use policy (manual 1.2): 100 requests a minute and 500 an hour
 * per account holder (the organisation behind the token; the client address
 * when anonymous), on sliding windows and the mock's clock. Past a limit: 429
 * with Retry-After. Continuing while limited blocks the caller for a while.
 */

export interface FairUseLimit {
  requests: number;
  windowSeconds: number;
}

export interface FairUseConfig {
  enabled: boolean;
  limits: FairUseLimit[];
  /** Requests refused with 429 that, sent while limited, turn into a block of `blockSeconds`. */
  blockAfter: number;
  blockSeconds: number;
  /** Per-caller limits (keys: organisation ids, or `ip:<address>`), replacing `limits`. */
  overrides: Record<string, FairUseLimit[]>;
}

export const DEFAULT_FAIR_USE: FairUseConfig = {
  enabled: true,
  limits: [
    { requests: 100, windowSeconds: 60 },
    { requests: 500, windowSeconds: 3600 },
  ],
  blockAfter: 10,
  blockSeconds: 900,
  overrides: {},
};

export type FairUseVerdict =
  | { allowed: true }
  /** FAIRUSE_001: a limit is reached; FAIRUSE_002: the caller is blocked. */
  | { allowed: false; code: 'FAIRUSE_001' | 'FAIRUSE_002'; retryAfterSeconds: number; limit?: FairUseLimit };

export interface FairUseBlock {
  caller: string;
  until: number;
}

/** One caller's state: counted requests (a ring of the most recent), the current limited episode, a block. */
interface CallerState {
  /** Timestamps (ms) of counted requests, oldest overwritten first; dense up to `capacity`. */
  ring: number[];
  /** The largest `requests` of the caller's limits: the ring's size. */
  capacity: number;
  /** Next slot to write. */
  head: number;
  /** Timestamps held (at most `capacity`). */
  count: number;
  /** The limits the ring was sized for (config.overrides[caller] ?? config.limits). */
  limits: FairUseLimit[];
  /** The longest window of those limits, ms: older timestamps never matter. */
  horizon: number;
  /** The mock time of the caller's latest request (counted or not). */
  seen: number;
  /** When the last refusal said the caller may pass again (ms); refusals before it are strikes. */
  limitedUntil: number;
  /** Refusals sent while limited, in the current limited episode. */
  strikes: number;
  /** End of the current block (ms), 0 when not blocked. */
  blockedUntil: number;
}

const ALLOWED: FairUseVerdict = Object.freeze({ allowed: true as const });
/** Below this many callers the table is never swept. */
const SWEEP_FLOOR = 1024;

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

export class FairUseLimiter {
  private readonly callers = new Map<string, CallerState>();
  /** Sweep idle callers when the table reaches this size (twice the size left by the last sweep): O(1) amortised. */
  private sweepAt = SWEEP_FLOOR;

  constructor(
    public config: FairUseConfig,
    private readonly now: () => number,
  ) {}

  /**
   * Counts one request of `caller` if it may pass; otherwise says why not and for how long.
   * Sliding windows: a request passes when, for each of the caller's limits, fewer than
   * `requests` counted requests fall in the last `windowSeconds` (a request at t counts in
   * (t - window, t]); it then counts. Refused requests do not count. The first refusal opens
   * a limited episode; `blockAfter` further refusals sent before the Retry-After they were
   * given block the caller for `blockSeconds` from the last of them.
   */
  take(caller: string): FairUseVerdict {
    const config = this.config;
    if (!config.enabled) return ALLOWED;
    const now = this.now();
    const limits = Object.hasOwn(config.overrides, caller) ? config.overrides[caller] : config.limits;
    let state = this.callers.get(caller);
    if (state === undefined) {
      if (this.callers.size >= this.sweepAt) this.sweep(now);
      state = fresh(limits, now);
      this.callers.set(caller, state);
    } else {
      // The clock was set back (past wall-clock jitter): the recorded times mean nothing now.
      if (now < state.seen - 1000) reset(state);
      state.seen = now;
      if (state.blockedUntil !== 0) {
        const left = state.blockedUntil - now;
        if (left > 0) return { allowed: false, code: 'FAIRUSE_002', retryAfterSeconds: seconds(left) };
        reset(state); // the block is over: a fresh start
      }
      if (state.limits !== limits) resize(state, limits);
      // Idle for longer than the longest window: every timestamp is stale.
      if (state.count !== 0 && now - state.ring[(state.head + state.capacity - 1) % state.capacity] >= state.horizon) {
        state.count = 0;
        state.head = 0;
      }
    }

    // The binding limit: of those reached, the one whose slot frees last.
    let release = -Infinity;
    let hit: FairUseLimit | undefined;
    const { ring, capacity, head, count } = state;
    for (let i = 0; i < limits.length; i++) {
      const limit = limits[i];
      const n = limit.requests;
      if (count < n) continue;
      // The n-th most recent counted request: while it is in the window, n are.
      const freed = ring[(head - n + capacity) % capacity] + limit.windowSeconds * 1000;
      if (freed > now && freed > release) {
        release = freed;
        hit = limit;
      }
    }

    if (hit === undefined) {
      ring[head] = now;
      state.head = head + 1 === capacity ? 0 : head + 1;
      if (count < capacity) state.count = count + 1;
      state.strikes = 0;
      state.limitedUntil = 0;
      return ALLOWED;
    }

    if (now < state.limitedUntil) {
      // Sent before the Retry-After a refusal gave: a strike.
      if (++state.strikes >= config.blockAfter) {
        state.blockedUntil = now + config.blockSeconds * 1000;
        state.strikes = 0;
      }
    } else state.strikes = 0; // a new limited episode (or a caller that waited as told)
    state.limitedUntil = release;
    return { allowed: false, code: 'FAIRUSE_001', retryAfterSeconds: seconds(release - now), limit: hit };
  }

  /** Callers blocked now, and until when (mock time, ms). */
  blocks(): FairUseBlock[] {
    const now = this.now();
    const blocks: FairUseBlock[] = [];
    for (const [caller, state] of this.callers) if (state.blockedUntil > now) blocks.push({ caller, until: state.blockedUntil });
    return blocks;
  }

  clear(): void {
    this.callers.clear();
    this.sweepAt = SWEEP_FLOOR;
  }

  /** Callers whose timestamps all left their longest window, and not blocked, are forgotten. */
  private sweep(now: number): void {
    for (const [caller, state] of this.callers) {
      if (now >= state.seen && now - state.seen >= state.horizon && now >= state.blockedUntil) this.callers.delete(caller);
    }
    this.sweepAt = Math.max(SWEEP_FLOOR, this.callers.size * 2);
  }
}

function fresh(limits: FairUseLimit[], now: number): CallerState {
  const state: CallerState = { ring: [], capacity: 1, head: 0, count: 0, limits, horizon: 0, seen: now, limitedUntil: 0, strikes: 0, blockedUntil: 0 };
  size(state, limits);
  return state;
}

function size(state: CallerState, limits: FairUseLimit[]): void {
  let capacity = 1;
  let horizon = 0;
  for (const limit of limits) {
    if (limit.requests > capacity) capacity = limit.requests;
    if (limit.windowSeconds * 1000 > horizon) horizon = limit.windowSeconds * 1000;
  }
  state.limits = limits;
  state.capacity = capacity;
  state.horizon = horizon;
}

function reset(state: CallerState): void {
  state.head = 0;
  state.count = 0;
  state.limitedUntil = 0;
  state.strikes = 0;
  state.blockedUntil = 0;
}

/** The caller's limits changed (settings, overrides): keep the most recent timestamps that fit the new ring. */
function resize(state: CallerState, limits: FairUseLimit[]): void {
  const { ring, capacity: old, head, count } = state;
  size(state, limits);
  const kept = Math.min(count, state.capacity);
  const next: number[] = [];
  for (let k = kept; k >= 1; k--) next.push(ring[(head - k + old) % old]);
  state.ring = next;
  state.count = kept;
  state.head = kept % state.capacity;
}
