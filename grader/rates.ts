import type { Observation } from './observation.js';

export interface RateBucket {
  /** Start of the bucket (ISO). */
  start: string;
  /** Requests of the busiest account holder in this bucket. */
  requests: number;
  holder: string;
}

export interface RateSeries {
  /** Clock minutes and hours: the picture's bars. The rules themselves use sliding windows. */
  perMinute: RateBucket[];
  perHour: RateBucket[];
  holders: number;
}

/**
 * API requests per account holder in clock minutes and hours, for the
 * report's picture. Bounded by holders × buckets that saw a request; what is
 * drawn is, per bucket, the busiest holder, since the limits are per holder.
 */
export class RateCounter {
  private readonly minutes = new Map<string, Map<number, number>>();
  private readonly hours = new Map<string, Map<number, number>>();

  observe(observation: Observation): void {
    if (observation.kind !== 'api' || Number.isNaN(observation.at)) return;
    add(this.minutes, observation.holder, Math.floor(observation.at / 60_000));
    add(this.hours, observation.holder, Math.floor(observation.at / 3_600_000));
  }

  series(): RateSeries {
    return { perMinute: busiest(this.minutes, 60_000), perHour: busiest(this.hours, 3_600_000), holders: this.minutes.size };
  }
}

function add(table: Map<string, Map<number, number>>, holder: string, bucket: number): void {
  let counts = table.get(holder);
  if (!counts) table.set(holder, (counts = new Map()));
  counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
}

function busiest(table: Map<string, Map<number, number>>, size: number): RateBucket[] {
  const best = new Map<number, { requests: number; holder: string }>();
  for (const [holder, counts] of table) {
    for (const [bucket, requests] of counts) {
      const known = best.get(bucket);
      if (!known || requests > known.requests) best.set(bucket, { requests, holder });
    }
  }
  return [...best.entries()].sort((a, b) => a[0] - b[0]).map(([bucket, { requests, holder }]) => ({ start: new Date(bucket * size).toISOString(), requests, holder }));
}
