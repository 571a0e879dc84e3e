import type { Observation } from './observation.js';

export type Severity = 'error' | 'warning';

/** One offending exchange: where it is in the journal and why it offends. */
export interface Finding {
  id: number;
  line: number;
  reason: string;
}

export interface RuleResult {
  rule: string;
  title: string;
  severity: Severity;
  manualRef: string;
  description: string;
  passed: boolean;
  /** Exchanges the rule applied to. */
  checked: number;
  violations: number;
  /** The first findings, at most EVIDENCE_CAP of `violations`. */
  evidence: Finding[];
}

export interface RuleInfo {
  id: string;
  title: string;
  severity: Severity;
  manualRef: string;
  description: string;
}

/** An incremental check: it sees each exchange once, in journal order, and keeps bounded state. */
export interface Rule {
  info: RuleInfo;
  observe(observation: Observation): void;
  finish(): RuleResult;
}

export const EVIDENCE_CAP = 20;

/** Counts applicable exchanges and violations; keeps the first findings as evidence. */
export class Verdict {
  checked = 0;
  violations = 0;
  readonly evidence: Finding[] = [];

  constructor(readonly info: RuleInfo) {}

  fail(observation: Observation, reason: string): void {
    this.violations++;
    if (this.evidence.length < EVIDENCE_CAP) this.evidence.push({ id: observation.exchange.id, line: observation.line, reason });
  }

  result(): RuleResult {
    return { rule: this.info.id, ...withoutId(this.info), passed: this.violations === 0, checked: this.checked, violations: this.violations, evidence: this.evidence };
  }
}

const withoutId = ({ title, severity, manualRef, description }: RuleInfo) => ({ title, severity, manualRef, description });

/** A map that forgets its oldest keys past a size, so per-key state stays bounded however long the journal. */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.limit) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}

/** Times per key in a sliding window: how often something happened lately (sign-ins per client, reads per page). */
export class RecentTimes {
  private readonly times: BoundedMap<string, number[]>;

  constructor(
    limit: number,
    private readonly windowMs: number,
  ) {
    this.times = new BoundedMap(limit);
  }

  /** Notes `at` for the key, forgets its times older than the window, and answers how many are left, `at` included. */
  add(key: string, at: number): number {
    const times = (this.times.get(key) ?? []).filter((time) => time > at - this.windowMs);
    times.push(at);
    this.times.set(key, times);
    return times.length;
  }
}
