import type { Observation } from '../observation.js';
import { BoundedMap, Verdict, type Rule } from '../rule.js';

/**
 * The times (and journal lines) of an account holder's last `limit`
 * requests: the request that finds the oldest of them inside the window is
 * one too many. Bounded by the limit, however long the journal.
 */
class Window {
  private readonly times: Float64Array;
  private readonly lines: Int32Array;
  private next = 0;
  private count = 0;

  constructor(private readonly limit: number) {
    this.times = new Float64Array(limit);
    this.lines = new Int32Array(limit);
  }

  /** Adds a request; returns the line of the oldest request it shares a too-full window with, or 0. */
  add(at: number, line: number, windowMs: number): number {
    const oldest = this.next;
    const crowded = this.count === this.limit && this.times[oldest] > at - windowMs ? this.lines[oldest] : 0;
    this.times[this.next] = at;
    this.lines[this.next] = line;
    this.next = (this.next + 1) % this.limit;
    if (this.count < this.limit) this.count++;
    return crowded;
  }
}

/**
 * Manual 1.2.1: at most `requests` in any sliding window of `windowSeconds`
 * per account holder. Every request sent to the six APIs counts, the refused
 * ones too: the policy limits what a client sends.
 */
export function rateLimit(requests: number, windowSeconds: number): Rule {
  const name = windowSeconds === 60 ? 'minute' : windowSeconds === 3600 ? 'hour' : `${windowSeconds} s`;
  const verdict = new Verdict({
    id: `rate-per-${name.replace(' ', '')}`,
    title: `At most ${requests} requests ${name === 'hour' ? 'an' : 'a'} ${name}`,
    severity: 'error',
    manualRef: '1.2.1 Accepted request frequencies',
    description: `No account holder sends more than ${requests} API requests in any sliding ${name} (B2C calls are not G-REX's and do not count).`,
  });
  const windows = new BoundedMap<string, Window>(100_000);
  const windowMs = windowSeconds * 1000;
  return {
    info: verdict.info,
    observe(observation: Observation) {
      if (observation.kind !== 'api') return;
      verdict.checked++;
      let window = windows.get(observation.holder);
      if (!window) windows.set(observation.holder, (window = new Window(requests)));
      const since = window.add(observation.at, observation.line, windowMs);
      if (since) verdict.fail(observation, `request ${requests + 1} within a ${name} for ${observation.holder} (the ${name} from line ${since})`);
    },
    finish: () => verdict.result(),
  };
}

/** When a 429 without Retry-After (a proxy's upstream may omit it) may be followed: one fair-use minute. */
export const DEFAULT_RETRY_AFTER_SECONDS = 60;

/** Retry-After as seconds or an HTTP date, relative to the answer's time. */
function retryAfterMs(value: string | number | undefined, at: number): number {
  if (value === undefined || value === '') return DEFAULT_RETRY_AFTER_SECONDS * 1000;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(String(value));
  return Number.isNaN(date) ? DEFAULT_RETRY_AFTER_SECONDS * 1000 : Math.max(0, date - at);
}

/** Journal times are whole milliseconds: two requests one after the other may look that much closer. */
const CLOCK_GRAIN_MS = 1;

/**
 * Manual 1.2.3: after a 429 the account holder sends nothing to the APIs
 * until the time its Retry-After gives (60 s when it gives none): a client
 * that keeps sending while limited is blocked (a retry storm).
 */
export function retryAfter(): Rule {
  const verdict = new Verdict({
    id: 'retry-after',
    title: 'Back-off after 429 honours Retry-After',
    severity: 'error',
    manualRef: '1.2.3 Monitoring and blocking',
    description: `After a 429, the account holder sends no API request before Retry-After has passed (${DEFAULT_RETRY_AFTER_SECONDS} s without one).`,
  });
  const quietUntil = new BoundedMap<string, { until: number; line: number; seconds: number }>(100_000);
  return {
    info: verdict.info,
    observe(observation: Observation) {
      if (observation.kind !== 'api') return;
      const quiet = quietUntil.get(observation.holder);
      if (quiet) {
        verdict.checked++;
        if (observation.at + CLOCK_GRAIN_MS < quiet.until) {
          verdict.fail(observation, `sent ${((quiet.until - observation.at) / 1000).toFixed(1)} s before the Retry-After (${quiet.seconds} s) of the 429 at line ${quiet.line}`);
        } else if (observation.status !== 429) quietUntil.delete(observation.holder);
      }
      if (observation.status === 429) {
        const wait = retryAfterMs(observation.exchange.response.headers['retry-after'], observation.at);
        const until = observation.at + wait;
        if (!quiet || until > quiet.until) quietUntil.set(observation.holder, { until, line: observation.line, seconds: Math.round(wait / 1000) });
      }
    },
    finish: () => verdict.result(),
  };
}
