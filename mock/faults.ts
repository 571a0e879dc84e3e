import type { Codes, Outcome } from './outcome.js';

/**
 * Test-only faults: the mock made wrong on purpose, so a suite or a grader
 * can be shown to catch what it claims to catch (the suites' meta-tests and
 * mutation run, the proxy's drift report). Set with `--fault JSON` or
 * `/__admin/faults`; never on unless asked for, and every faulty answer says
 * so in the journal.
 *
 * A fault bends the answer one stage of the pipeline decided: the gateway's
 * firewall (403 page) and fair use (429), the router (404/405), auth
 * (401/403), validation (`_002`, `_004`, `_014`, 413), the domain (every
 * operation's own answer, B2C's included) or the documentation pages.
 */
export const FAULT_STAGES = ['firewall', 'fairuse', 'route', 'auth', 'validate', 'domain', 'docs'] as const;
export type FaultStage = (typeof FAULT_STAGES)[number];

/** Which answers a fault bends: a stage's (the domain's unless given), of one operation, where the stage decided one code, with one status. */
interface Scope {
  stage?: FaultStage;
  /** Known from the route stage on: firewall and fair-use answers have none. */
  operationId?: string;
  /** The code the stage decided (`FAIRUSE_002`, `AUTH_001`, `ACCOUNT_004`; the firewall's rule, such as `header-accept`). */
  when?: string;
  status?: number;
}

export type Fault =
  /** Sets a field of the JSON answer (a wrong type, a wrong value, or a field the contract does not have). */
  | (Scope & { kind: 'set-field'; field: string; value: unknown })
  /** Removes a field of the JSON answer (a required one breaks the contract). */
  | (Scope & { kind: 'remove-field'; field: string })
  /** Answers another code (its status and message) than the stage decided; the stage's headers stay. */
  | (Scope & { kind: 'wrong-code'; code: string })
  /** Answers another HTTP status with the same body. */
  | (Scope & { kind: 'set-status'; value: number })
  /** Sets an answer header (a wrong Retry-After, a wrong content type). */
  | (Scope & { kind: 'set-header'; header: string; value: string })
  /** Leaves an answer header out (Retry-After, WWW-Authenticate, Allow). */
  | (Scope & { kind: 'remove-header'; header: string })
  /** The gateway firewall stops enforcing one of its rules (e.g. header-accept; `blocked`: blocked clients pass). */
  | { kind: 'skip-rule'; rule: string };

export type Injected = Fault & { id: number };

const KINDS = ['set-field', 'remove-field', 'wrong-code', 'set-status', 'set-header', 'remove-header', 'skip-rule'] as const;

const isStatus = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 100 && (value as number) <= 599;

/** A fault from JSON, or why it is not one. `knownCode` and `knownRules` refuse names the mock would never match. */
export function parseFault(value: unknown, knownCode: (code: string) => boolean, knownRules: readonly string[]): Fault | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a fault is a JSON object with a "kind"';
  const fault = value as Record<string, unknown>;
  const kind = fault.kind;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) return `"kind" must be one of ${KINDS.join(', ')}`;
  const optionalString = (name: string): string | undefined | null =>
    fault[name] === undefined ? undefined : typeof fault[name] === 'string' && fault[name] !== '' ? (fault[name] as string) : null;
  if (kind === 'skip-rule') {
    const rule = optionalString('rule');
    if (!rule || !knownRules.includes(rule)) return `"rule" must be one of ${knownRules.join(', ')}`;
    return { kind: 'skip-rule', rule };
  }

  const scope: Scope = {};
  const stage = optionalString('stage');
  if (stage === null || (stage !== undefined && !(FAULT_STAGES as readonly string[]).includes(stage))) return `"stage" must be one of ${FAULT_STAGES.join(', ')}`;
  if (stage) scope.stage = stage as FaultStage;
  const operationId = optionalString('operationId');
  if (operationId === null) return '"operationId" must be a non-empty string';
  if (operationId) scope.operationId = operationId;
  const when = optionalString('when');
  if (when === null) return '"when" must be a non-empty string';
  if (when) scope.when = when;
  if (fault.status !== undefined && !isStatus(fault.status)) return '"status" must be an HTTP status';
  if (fault.status !== undefined) scope.status = fault.status as number;

  switch (kind) {
    case 'set-field':
    case 'remove-field': {
      if (typeof fault.field !== 'string' || !/^[^.]+(\.[^.]+)*$/.test(fault.field)) return '"field" must be a dotted path such as "accountNumber" or "holder.name"';
      if (kind === 'remove-field') return { kind, ...scope, field: fault.field };
      if (!('value' in fault)) return 'set-field needs a "value"';
      return { kind, ...scope, field: fault.field, value: fault.value };
    }
    case 'wrong-code': {
      const code = optionalString('code');
      if (!code || !knownCode(code)) return '"code" must be a response code the contracts define (see `grex-harness codes`)';
      return { kind, ...scope, code };
    }
    case 'set-status':
      if (!isStatus(fault.value)) return 'set-status needs a "value" that is an HTTP status';
      return { kind, ...scope, value: fault.value };
    default: {
      const header = optionalString('header');
      if (!header || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) return '"header" must be a header name';
      if (kind === 'remove-header') {
        // Every answer with a body says its type: a wrong one is set-header's job.
        if (header.toLowerCase() === 'content-type') return 'the content type cannot be removed; set another with set-header';
        return { kind: 'remove-header', ...scope, header: header.toLowerCase() };
      }
      if (typeof fault.value !== 'string') return 'set-header needs a string "value"';
      return { kind: 'set-header', ...scope, header: header.toLowerCase(), value: fault.value };
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

/** The answer a stage decided, as the faults see it. */
export interface Decided {
  stage: FaultStage;
  operationId?: string;
  /** The code the stage decided, if any. */
  code?: string;
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
   * The outcome with every fault that matches what the stage decided applied,
   * and what was done; the outcome itself when none matches. Bodies are
   * copied first: handlers may answer objects the registry still holds.
   */
  apply(decided: Decided, outcome: Outcome, codes: Pick<Codes, 'naming'>): { outcome: Outcome; applied: string[] } {
    let current = outcome;
    const applied: string[] = [];
    for (const fault of this.list) {
      if (fault.kind === 'skip-rule') continue;
      if ((fault.stage ?? 'domain') !== decided.stage) continue;
      if (fault.operationId && fault.operationId !== decided.operationId) continue;
      if (fault.when && fault.when !== decided.code) continue;
      if (fault.status !== undefined && fault.status !== current.status) continue;
      switch (fault.kind) {
        case 'wrong-code':
          current = { ...codes.naming(fault.code, ['test-only fault']), headers: current.headers };
          applied.push(`#${fault.id} answered ${fault.code}`);
          continue;
        case 'set-status':
          current = { ...current, status: fault.value };
          applied.push(`#${fault.id} answered status ${fault.value}`);
          continue;
        case 'set-header':
        case 'remove-header': {
          const headers = { ...current.headers };
          // The answer's type is its `contentType`, which the pipeline writes as the header.
          if (fault.kind === 'set-header' && fault.header === 'content-type') {
            current = { ...current, contentType: fault.value };
          } else {
            if (fault.kind === 'set-header') headers[fault.header] = fault.value;
            else delete headers[fault.header];
            current = { ...current, headers };
          }
          applied.push(`#${fault.id} ${fault.kind} ${fault.header}`);
          continue;
        }
        default: {
          if (typeof current.body !== 'object' || current.body === null || Buffer.isBuffer(current.body)) continue;
          const body = structuredClone(current.body);
          const path = fault.field.split('.');
          if (fault.kind === 'set-field') edit(body, path, (holder, key) => (holder[key] = structuredClone(fault.value)));
          else edit(body, path, (holder, key) => delete holder[key]);
          current = { ...current, body };
          applied.push(`#${fault.id} ${fault.kind} ${fault.field}`);
        }
      }
    }
    return { outcome: current, applied };
  }
}
