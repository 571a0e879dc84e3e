import type { Difference, DifferenceKind, Impact } from '../contracts/lib/difference.js';
import type { Exchange } from '../mock/journal.js';

export interface DriftGroup {
  /** The operationId, or `METHOD /path` when no operation of the contracts matches. */
  operation: string;
  /** Worded, and classed, as `grex-harness contracts diff` words and classes the same difference. */
  reason: string;
  kind: DifferenceKind;
  impact: Impact;
  count: number;
  firstSeen: string;
  lastSeen: string;
  /** The first exchange that showed it: enough to find it in the journal and to correct the contract. */
  example: { id: number; method: string; url: string; status: number; body?: string };
}

export interface DriftReport {
  target: string;
  /** Answers from the target that were checked. */
  checked: number;
  /** Of those, answers with at least one problem. */
  drifted: number;
  /** Of those, answers with a difference that is breaking for a client. */
  breaking: number;
  groups: DriftGroup[];
}

const EXAMPLE_BODY_CHARS = 2000;

/**
 * Where the target's answers disagree with the contracts, grouped by
 * operation and reason with counts: what to correct in the reconstructed
 * contracts. Bounded: one entry per distinct (operation, reason).
 */
export class DriftLog {
  private readonly groups = new Map<string, DriftGroup>();
  private checked = 0;
  private drifted = 0;
  private breaking = 0;

  constructor(private readonly target: string) {}

  /** Records one checked answer and how it differs from the contract (not at all: it agreed). */
  add(exchange: Exchange, problems: Difference[]): void {
    this.checked++;
    if (!problems.length) return;
    this.drifted++;
    if (problems.some((problem) => problem.impact === 'breaking')) this.breaking++;
    const operation = exchange.operationId ?? `${exchange.request.method} ${exchange.request.url.split('?')[0]}`;
    for (const { text: reason, kind, impact } of problems) {
      const key = `${operation}\u0000${reason}`;
      const known = this.groups.get(key);
      if (known) {
        known.count++;
        known.lastSeen = exchange.startedAt;
        continue;
      }
      const body = exchange.response.body;
      this.groups.set(key, {
        operation,
        reason,
        kind,
        impact,
        count: 1,
        firstSeen: exchange.startedAt,
        lastSeen: exchange.startedAt,
        example: {
          id: exchange.id,
          method: exchange.request.method,
          url: exchange.request.url,
          status: exchange.response.status,
          ...(body === undefined ? {} : { body: body.length > EXAMPLE_BODY_CHARS ? `${body.slice(0, EXAMPLE_BODY_CHARS)}…` : body }),
        },
      });
    }
  }

  report(): DriftReport {
    const groups = [...this.groups.values()].sort((a, b) => b.count - a.count || a.operation.localeCompare(b.operation) || a.reason.localeCompare(b.reason));
    return { target: this.target, checked: this.checked, drifted: this.drifted, breaking: this.breaking, groups };
  }

  /** A few lines for the terminal. */
  summary(): string {
    const { checked, drifted, breaking, groups } = this.report();
    if (!drifted) return `Contract drift: none (${checked} answers checked).`;
    const lines = [`Contract drift: ${drifted} of ${checked} answers disagree with the contracts (${breaking} in a way that breaks a client):`];
    for (const group of groups) lines.push(`  ${String(group.count).padStart(5)}  ${group.impact.padEnd(12)}  ${group.operation}: ${group.reason}`);
    return lines.join('\n');
  }
}
