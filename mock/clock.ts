/**
 * The mock's one clock. Every time-dependent rule (token lifetimes, fair-use
 * windows, certificate expiry, scheduled transactions) reads it, and the admin
 * API sets or advances it, so an hour of G-REX time passes in a request.
 * It runs with wall time from the moment it was last set.
 */
export class Clock {
  private offset = 0;
  private lastIsoAt = Number.NaN;
  private lastIso = '';
  private readonly listeners = new Set<(now: number) => void>();

  constructor(start?: number, private readonly wall: () => number = Date.now) {
    if (start !== undefined) this.offset = start - wall();
  }

  now(): number {
    return this.wall() + this.offset;
  }

  iso(): string {
    // Many requests fall in the same millisecond; formatting a date is not free.
    const now = this.now();
    if (now !== this.lastIsoAt) {
      this.lastIsoAt = now;
      this.lastIso = new Date(now).toISOString();
    }
    return this.lastIso;
  }

  set(at: number): void {
    this.offset = at - this.wall();
    this.emit();
  }

  advance(ms: number): void {
    if (ms < 0) throw new RangeError('the clock only moves forward');
    this.offset += ms;
    this.emit();
  }

  /** Called after every set or advance (scheduled transactions, expiry). */
  onChange(listener: (now: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    const now = this.now();
    for (const listener of this.listeners) listener(now);
  }
}

const DURATION = /^P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const UNIT_MS = [365 * 86_400_000, 30 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000];

/** ISO-8601 duration (`PT90S`, `P1D`, `P1Y2M`) in milliseconds; years are 365 days and months 30. Null when malformed. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text);
  if (!match) return null;
  return match.slice(1).reduce((total, value, index) => total + (value ? Number(value) * UNIT_MS[index] : 0), 0);
}
