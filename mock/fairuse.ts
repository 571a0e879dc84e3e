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

/** The manual's limits (1.2): 100 requests a minute and 500 an hour per account holder. */
export const MANUAL_LIMITS: readonly FairUseLimit[] = [
  { requests: 100, windowSeconds: 60 },
  { requests: 500, windowSeconds: 3600 },
];

export const DEFAULT_FAIR_USE: FairUseConfig = {
  enabled: true,
  limits: MANUAL_LIMITS.map((limit) => ({ ...limit })),
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

/** One caller's windows as the state file and snapshots keep them: counted request times (oldest first), its limited episode and block. */
export interface FairUseCaller {
  caller: string;
  times: number[];
  seen: number;
  limitedUntil: number;
  strikes: number;
  blockedUntil: number;
}

/**
 * One caller's state: its counted requests (a ring, oldest first, holding at
 * most the largest `requests` of its limits and nothing older than its longest
 * window), the current limited episode, and a block.
 */
interface CallerState {
  /** Timestamps (ms) of counted requests; grows by doubling up to `capacity`. */
  ring: number[];
  /** Index of the oldest timestamp held. */
  tail: number;
  /** Timestamps held. */
  count: number;
  /** The largest `requests` of the caller's limits. */
  capacity: number;
  /** The longest window of those limits, ms: older timestamps never matter. */
  horizon: number;
  /** The limits the state was sized for (config.overrides[caller] ?? config.limits). */
  limits: FairUseLimit[];
  /** The mock time of the caller's latest request (counted or not). */
  seen: number;
  /** When the last refusal said the caller would pass again (ms); refusals sent before it are strikes. */
  limitedUntil: number;
  /** Refusals sent while limited, in the current limited episode. */
  strikes: number;
  /** End of the current block (ms), 0 when not blocked. */
  blockedUntil: number;
}

const ALLOWED: FairUseVerdict = Object.freeze({ allowed: true as const });
/** Below this many callers the table is never swept. */
const SWEEP_FLOOR = 1024;
/** Wall-clock jitter tolerated before a clock that went back counts as set back. */
const CLOCK_SLACK_MS = 1000;

/**
 * A saved caller (state file, snapshot) keeps at most its most recent
 * requests up to this many: exact for any limit of up to 10,000 requests in
 * a window (G-REX's are 100 and 500). Limits raised far above G-REX's (a
 * benchmark's billion a minute) would otherwise save every request of the
 * last minute, once a second: about a million numbers under load.
 */
const SAVED_REQUESTS = 10_000;

/** Whole seconds, rounded up, at least 1: waiting that long is enough. */
const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

export class FairUseLimiter {
  private readonly callers = new Map<string, CallerState>();
  /** Sweep idle callers when the table reaches this size (twice what the last sweep left): O(1) amortised. */
  private sweepAt = SWEEP_FLOOR;
  /** Windows or blocks changed since the state file last saved them (set by every counted request: one store). */
  changed = false;

  constructor(
    public config: FairUseConfig,
    private readonly now: () => number,
  ) {}

  /**
   * Counts one request of `caller` if it may pass; otherwise says why not and for how long.
   *
   * Sliding windows: a request passes when, for each of the caller's limits, fewer than
   * `requests` counted requests fall in the last `windowSeconds` (a request at t is in the
   * window until t + window); then it counts. Refused requests do not count. Retry-After is
   * when the binding limit frees a slot. The first refusal opens a limited episode;
   * the `blockAfter`-th further request sent before the time the previous refusal gave
   * blocks the caller for `blockSeconds` (it is answered FAIRUSE_002 already, as is every
   * request until the block ends), after which it starts fresh. A pass ends the episode.
   */
  take(caller: string): FairUseVerdict {
    const config = this.config;
    if (!config.enabled) return ALLOWED;
    this.changed = true;
    const now = this.now();
    const limits = Object.hasOwn(config.overrides, caller) ? config.overrides[caller] : config.limits;
    let state = this.callers.get(caller);
    if (state === undefined) {
      if (this.callers.size >= this.sweepAt) this.sweep(now);
      state = fresh(limits, now);
      this.callers.set(caller, state);
    } else {
      // The clock was set back (beyond wall-clock jitter): the recorded times mean nothing now.
      if (now < state.seen - CLOCK_SLACK_MS) reset(state);
      state.seen = now;
      if (state.blockedUntil !== 0) {
        const left = state.blockedUntil - now;
        if (left > 0) return { allowed: false, code: 'FAIRUSE_002', retryAfterSeconds: seconds(left) };
        reset(state); // the block is over: a fresh start
      }
      if (state.limits !== limits) resize(state, limits);
      // Drop what left the longest window (amortised O(1): each timestamp leaves once).
      const { ring } = state;
      const oldest = now - state.horizon;
      while (state.count !== 0 && ring[state.tail] <= oldest) {
        state.tail = state.tail + 1 === ring.length ? 0 : state.tail + 1;
        state.count--;
      }
    }

    // The binding limit: of those reached, the one that frees a slot last.
    let release = -Infinity;
    let hit: FairUseLimit | undefined;
    const { ring, tail, count } = state;
    const size = ring.length;
    for (let i = 0; i < limits.length; i++) {
      const limit = limits[i];
      const n = limit.requests;
      if (count < n) continue;
      // The n-th most recent counted request: while it is in the window, n are.
      const index = tail + count - n;
      const freed = ring[index >= size ? index - size : index] + limit.windowSeconds * 1000;
      if (freed > now && freed > release) {
        release = freed;
        hit = limit;
      }
    }

    if (hit === undefined) {
      push(state, now);
      state.strikes = 0;
      state.limitedUntil = 0;
      return ALLOWED;
    }

    if (now < state.limitedUntil) {
      // Sent before the time the previous refusal gave: a strike.
      if (++state.strikes >= config.blockAfter) {
        // The block starts with this request, so its answer already says how long the block lasts.
        state.blockedUntil = now + config.blockSeconds * 1000;
        state.strikes = 0;
        state.limitedUntil = 0;
        return { allowed: false, code: 'FAIRUSE_002', retryAfterSeconds: config.blockSeconds };
      }
    } else state.strikes = 0; // a new limited episode (or a caller that came back when told, beaten to the slot)
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
    this.changed = true;
  }

  /** Every caller's windows and block, for the state file and snapshots. */
  exportState(): FairUseCaller[] {
    const out: FairUseCaller[] = [];
    for (const [caller, state] of this.callers) {
      const kept = Math.min(state.count, SAVED_REQUESTS);
      out.push({ caller, times: ordered(state, kept, kept), seen: state.seen, limitedUntil: state.limitedUntil, strikes: state.strikes, blockedUntil: state.blockedUntil });
    }
    return out;
  }

  /** Replaces every caller's windows and block with saved ones, sized for the limits configured now. */
  importState(callers: readonly FairUseCaller[]): void {
    this.callers.clear();
    for (const saved of callers) {
      const limits = Object.hasOwn(this.config.overrides, saved.caller) ? this.config.overrides[saved.caller] : this.config.limits;
      const state = fresh(limits, saved.seen);
      const kept = saved.times.slice(Math.max(0, saved.times.length - state.capacity));
      state.ring = kept;
      state.count = kept.length;
      state.limitedUntil = saved.limitedUntil;
      state.strikes = saved.strikes;
      state.blockedUntil = saved.blockedUntil;
      this.callers.set(saved.caller, state);
    }
    this.sweepAt = Math.max(SWEEP_FLOOR, this.callers.size * 2);
    this.changed = false;
  }

  /** Forgets callers idle for longer than their longest window and not blocked: nothing of theirs matters any more. */
  private sweep(now: number): void {
    for (const [caller, state] of this.callers) {
      if (now >= state.seen && now - state.seen >= state.horizon && now >= state.blockedUntil) this.callers.delete(caller);
    }
    this.sweepAt = Math.max(SWEEP_FLOOR, this.callers.size * 2);
  }
}

function fresh(limits: FairUseLimit[], now: number): CallerState {
  const state: CallerState = { ring: [], tail: 0, count: 0, capacity: 1, horizon: 0, limits, seen: now, limitedUntil: 0, strikes: 0, blockedUntil: 0 };
  measure(state, limits);
  return state;
}

function measure(state: CallerState, limits: FairUseLimit[]): void {
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
  state.tail = 0;
  state.count = 0;
  state.limitedUntil = 0;
  state.strikes = 0;
  state.blockedUntil = 0;
}

/** Records a counted request: into a free slot, a ring twice the size (up to `capacity`), or over the oldest. */
function push(state: CallerState, at: number): void {
  let { ring } = state;
  if (state.count === ring.length) {
    if (ring.length < state.capacity) {
      ring = state.ring = ordered(state, Math.min(state.capacity, Math.max(8, ring.length * 2)));
      state.tail = 0;
    } else {
      // Full at capacity: the oldest can no longer decide anything.
      ring[state.tail] = at;
      state.tail = state.tail + 1 === ring.length ? 0 : state.tail + 1;
      return;
    }
  }
  const index = state.tail + state.count;
  ring[index >= ring.length ? index - ring.length : index] = at;
  state.count++;
}

/** The most recent `keep` timestamps (at most all), oldest first, in a fresh ring of `size` slots (filled with 0 past them). */
function ordered(state: CallerState, size: number, keep = state.count): number[] {
  const { ring, tail, count } = state;
  const next = new Array<number>(size).fill(0);
  const skip = count - Math.min(keep, count);
  for (let k = skip; k < count; k++) next[k - skip] = ring[(tail + k) % ring.length];
  return next;
}

/** The caller's limits changed (settings, overrides): keep the most recent timestamps that still fit. */
function resize(state: CallerState, limits: FairUseLimit[]): void {
  measure(state, limits);
  const kept = Math.min(state.count, state.capacity);
  state.ring = ordered(state, Math.min(state.capacity, Math.max(8, kept)), kept);
  state.tail = 0;
  state.count = kept;
}
