import type { Outcome } from './outcome.js';

/**
 * Test-only faults: the mock made wrong on purpose, so a suite or a grader
 * can be shown to catch what it claims to catch (issue 6's meta-tests, the
 * proxy's drift report). Set with `--fault JSON` or `/__admin/faults`; never
 * on unless asked for, and every faulty answer says so in the journal.
 */
export type Fault =
  /** Sets a field of the JSON answer (a wrong type, a wrong value, or a field the contract does not have). */
  | { kind: 'set-field'; operationId?: string; status?: number; field: string; value: unknown }
  /** Removes a field of the JSON answer (a required one breaks the contract). */
  | { kind: 'remove-field'; operationId?: string; status?: number; field: string }
  /** Answers another code than the domain decided (only where it decided `when`, if given). */
  | { kind: 'wrong-code'; operationId?: string; when?: string; code: string }
  /** The gateway firewall stops enforcing one of its rules (e.g. header-accept). */
  | { kind: 'skip-rule'; rule: string };

export type Injected = Fault & { id: number };

const KINDS = ['set-field', 'remove-field', 'wrong-code', 'skip-rule'] as const;

/** A fault from JSON, or why it is not one. `knownCode` and `knownRule` refuse names the mock would never match. */
export function parseFault(value: unknown, knownCode: (code: string) => boolean, knownRules: readonly string[]): Fault | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a fault is a JSON object with a "kind"';
  const fault = value as Record<string, unknown>;
  const kind = fault.kind;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) return `"kind" must be one of ${KINDS.join(', ')}`;
  const optionalString = (name: string): string | undefined | null =>
    fault[name] === undefined ? undefined : typeof fault[name] === 'string' && fault[name] !== '' ? (fault[name] as string) : null;
  const operationId = optionalString('operationId');
  if (operationId === null) return '"operationId" must be a non-empty string';
  const scope = operationId === undefined ? {} : { operationId };
  switch (kind) {
    case 'set-field':
    case 'remove-field': {
      if (typeof fault.field !== 'string' || !/^[^.]+(\.[^.]+)*$/.test(fault.field)) return '"field" must be a dotted path such as "accountNumber" or "holder.name"';
      if (fault.status !== undefined && !(Number.isInteger(fault.status) && (fault.status as number) >= 100 && (fault.status as number) <= 599)) return '"status" must be an HTTP status';
      const status = fault.status === undefined ? {} : { status: fault.status as number };
      if (kind === 'remove-field') return { kind, ...scope, ...status, field: fault.field };
      if (!('value' in fault)) return 'set-field needs a "value"';
      return { kind, ...scope, ...status, field: fault.field, value: fault.value };
    }
    case 'wrong-code': {
      const code = optionalString('code');
      if (!code || !knownCode(code)) return '"code" must be a response code the contracts define (see `grex-harness codes`)';
      const when = optionalString('when');
      if (when === null) return '"when" must be a non-empty string';
      return { kind, ...scope, ...(when ? { when } : {}), code };
    }
    default: {
      const rule = optionalString('rule');
      if (!rule || !knownRules.includes(rule)) return `"rule" must be one of ${knownRules.join(', ')}`;
      return { kind: 'skip-rule', rule };
    }
  }
}

/** Sets or removes `path` in a JSON value; arrays on the way are walked element by element. */
function edit(node: unknown, path: string[], change: (holder: Record<string, unknown>, key: string) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) edit(item, path, change);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const holder = node as Record<string, unknown>;
  const [key, ...rest] = path;
  if (rest.length === 0) change(holder, key);
  else edit(holder[key], rest, change);
}

export class Faults {
  private list: Injected[] = [];
  private nextId = 1;

  get all(): readonly Injected[] {
    return this.list;
  }

  get active(): boolean {
    return this.list.length > 0;
  }

  add(fault: Fault): Injected {
    const injected = { ...fault, id: this.nextId++ } as Injected;
    this.list = [...this.list, injected];
    return injected;
  }

  clear(): void {
    this.list = [];
  }

  /** Whether a firewall rule is switched off. */
  skips(rule: string): boolean {
    return this.list.some((fault) => fault.kind === 'skip-rule' && fault.rule === rule);
  }

  /**
   * The outcome with every matching fault applied, and what was done, or the
   * outcome itself when none matches. Bodies are copied first: handlers may
   * answer objects the registry still holds.
   */
  apply(operationId: string, outcome: Outcome, recode: (code: string) => Outcome): { outcome: Outcome; applied: string[] } {
    let current = outcome;
    const applied: string[] = [];
    for (const fault of this.list) {
      if (fault.kind === 'skip-rule' || (fault.operationId && fault.operationId !== operationId)) continue;
      if (fault.kind === 'wrong-code') {
        if (fault.when && current.code !== fault.when) continue;
        current = recode(fault.code);
        applied.push(`#${fault.id} answered ${fault.code}`);
        continue;
      }
      if (fault.status !== undefined && fault.status !== current.status) continue;
      if (typeof current.body !== 'object' || current.body === null || Buffer.isBuffer(current.body)) continue;
      const body = structuredClone(current.body);
      const path = fault.field.split('.');
      if (fault.kind === 'set-field') edit(body, path, (holder, key) => (holder[key] = structuredClone(fault.value)));
      else edit(body, path, (holder, key) => delete holder[key]);
      current = { ...current, body };
      applied.push(`#${fault.id} ${fault.kind} ${fault.field}`);
    }
    return { outcome: current, applied };
  }
}
