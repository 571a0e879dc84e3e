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

export class FairUseLimiter {
  constructor(
    public config: FairUseConfig,
    private readonly now: () => number,
  ) {}

  /** Counts one request of `caller` if it may pass; otherwise says why not and for how long. */
  take(caller: string): FairUseVerdict {
    void caller;
    void this.now;
    return { allowed: true };
  }

  blocks(): FairUseBlock[] {
    return [];
  }

  clear(): void {}
}
