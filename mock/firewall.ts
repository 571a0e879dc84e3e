/**
 * The Azure application gateway's firewall in front of G-REX (manual 1.3.1
 * and the note after Figure 31): required headers, and payload rules on
 * parameter and body values. It answers 403 with the gateway's HTML page, not
 * the JSON envelope. Repeated violations by one client block it for a while,
 * on the mock's clock.
 */

export type FirewallProfile = 'strict' | 'realistic';

export interface FirewallConfig {
  enabled: boolean;
  /** strict: all five headers on every request; realistic: Content-Type and Content-Length only when a body is sent. */
  profile: FirewallProfile;
  /** Add `x-grex-firewall-rule` to every 403 (switch off to answer exactly as G-REX). */
  diagnostics: boolean;
  /** Violations by one client within `blockWindowSeconds` that block it for `blockSeconds`. */
  blockAfter: number;
  blockWindowSeconds: number;
  blockSeconds: number;
}

export const DEFAULT_FIREWALL: FirewallConfig = { enabled: true, profile: 'realistic', diagnostics: true, blockAfter: 5, blockWindowSeconds: 300, blockSeconds: 600 };

/** What the firewall sees of a request. */
export interface FirewallRequest {
  client: string;
  method: string;
  /** Lower-case names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw query string (without `?`). */
  search: string;
  body: Buffer | null;
}

export type FirewallVerdict = { blocked: false } | { blocked: true; rule: string; detail: string };

/** The state the firewall keeps: recent violations and blocks per client. */
export interface FirewallBlock {
  client: string;
  until: number;
  rule: string;
}

/** The rule ids, in the order a request is checked: the first that applies names the 403. */
export const FIREWALL_RULES = [
  'blocked',
  'header-accept',
  'header-host',
  'header-user-agent',
  'header-content-type',
  'header-content-length',
  'url-scheme',
  'path-traversal',
  'script',
  'sql',
  'slash',
] as const;

export type FirewallRule = (typeof FIREWALL_RULES)[number];

/** What the firewall remembers, as the state file and snapshots keep it: recent violations and blocks per client. */
export interface FirewallState {
  violations: { client: string; times: number[] }[];
  blocks: FirewallBlock[];
}

/**
 * The payload rules, compiled once. Each value is first tested against their
 * union (one regex per value: the common case is a clean value); only a hit
 * looks for the rule that applies, in this order (the most specific first:
 * `https://` is a url-scheme before it is a slash).
 */
const PAYLOAD_RULES: readonly { rule: FirewallRule; pattern: RegExp }[] = [
  // `data:` as a URI (`data:,x`, `data:text/html;base64,...`), not the prose "Metering data: 5 MWh".
  { rule: 'url-scheme', pattern: /\b(?:https?|ftp|file):\/\/|\bjavascript:|\bdata:[\w.+-]*(?:\/[\w.+-]+)?(?:;[\w.+=-]+)*,/i },
  { rule: 'path-traversal', pattern: /\.\.[/\\]|%2e%2e/i },
  { rule: 'script', pattern: /<script|\bonerror\s*=|\bonload\s*=|<iframe|<svg/i },
  // A lone quote (OData string literals) passes: only the classic injections are refused.
  { rule: 'sql', pattern: /\bunion\s+(?:all\s+)?select\b|'\s*or\s*'1'\s*=\s*'1|'\s*or\s+1\s*=\s*1\b|;\s*--|\bdrop\s+table\b|;\s*delete\s+from\b|sleep\(/i },
  // The manual's example: "/" (and its Windows twin) in a value. Dates (2025-05-01) carry none.
  { rule: 'slash', pattern: /[/\\]/ },
];
const ANY_PAYLOAD = new RegExp(PAYLOAD_RULES.map(({ pattern }) => `(?:${pattern.source})`).join('|'), 'i');
const TRAVERSAL = PAYLOAD_RULES[1].pattern;
/** Traversal as it may hide in the raw query: encoded dots or an encoded separator after `..`. */
const RAW_TRAVERSAL = /%2e%2e|\.\.(?:[/\\]|%2f|%5c)|%2e\.|\.%2e/i;

interface Violation {
  rule: FirewallRule;
  detail: string;
}

const headerValue = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.join(', ') : value);
const present = (value: string | string[] | undefined): boolean => {
  const text = headerValue(value);
  return text !== undefined && text.trim() !== '';
};

/** A value for a detail line: short, on one line. */
const shown = (value: string): string => JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);

function payloadRule(value: string): FirewallRule | undefined {
  if (!ANY_PAYLOAD.test(value)) return undefined;
  for (const { rule, pattern } of PAYLOAD_RULES) if (pattern.test(value)) return rule;
  return undefined;
}

/** Query (and form) parameters: every value decoded against every rule, every name against traversal. */
function checkParameters(params: URLSearchParams, where: string): Violation | undefined {
  for (const [name, value] of params) {
    if (TRAVERSAL.test(name)) return { rule: 'path-traversal', detail: `${where} parameter name ${shown(name)}` };
    const rule = payloadRule(value);
    if (rule) return { rule, detail: `${where} parameter ${name}=${shown(value)}` };
  }
  return undefined;
}

/** Every string anywhere in a JSON value, without recursion (a deep body cannot overflow the stack). */
function checkJson(root: unknown): Violation | undefined {
  const stack: { value: unknown; path: string }[] = [{ value: root, path: '$' }];
  while (stack.length > 0) {
    const { value, path } = stack.pop() as { value: unknown; path: string };
    if (typeof value === 'string') {
      const rule = payloadRule(value);
      if (rule) return { rule, detail: `body ${path}=${shown(value)}` };
    } else if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index--) stack.push({ value: value[index], path: `${path}[${index}]` });
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) stack.push({ value: item, path: `${path}.${key}` });
    }
  }
  return undefined;
}

function checkBody(body: Buffer, contentType: string): Violation | undefined {
  const text = body.toString('utf8');
  if (contentType.includes('application/x-www-form-urlencoded')) return checkParameters(new URLSearchParams(text), 'form');
  // JSON's structure carries none of the rules' characters, and an escape (\u003c) carries a backslash, which the slash rule sees:
  // a body that trips nothing raw is clean without parsing it.
  if (!ANY_PAYLOAD.test(text)) return undefined;
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[' && first !== '"') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined; // Not JSON: the API's own validation answers it.
  }
  return checkJson(parsed);
}

export class Firewall {
  /** Recent violations per client: their times, oldest first. */
  private readonly violations = new Map<string, number[]>();
  private readonly blocked = new Map<string, FirewallBlock>();
  /** Violations or blocks changed since the state file last saved them. */
  changed = false;

  constructor(
    public config: FirewallConfig,
    private readonly now: () => number,
  ) {}

  /** Decides on one request; records violations and blocks. `skip` lets a rule's violations through (a test-only fault). */
  check(request: FirewallRequest, skip?: (rule: string) => boolean): FirewallVerdict {
    if (this.blocked.size > 0) {
      const block = this.blocked.get(request.client);
      if (block) {
        const now = this.now();
        if (block.until <= now) {
          this.blocked.delete(request.client);
          this.changed = true;
        }
        // A skipped `blocked` rule (a test-only fault) judges the request on its own.
        else if (!skip?.('blocked')) return { blocked: true, rule: 'blocked', detail: `client ${request.client} blocked until ${new Date(block.until).toISOString()} (${block.rule})` };
      }
    }
    const violation = this.inspect(request);
    if (!violation || skip?.(violation.rule)) return { blocked: false };
    this.record(request.client, violation.rule);
    return { blocked: true, rule: violation.rule, detail: violation.detail };
  }

  /** Clients blocked now. */
  blocks(): FirewallBlock[] {
    const now = this.now();
    return [...this.blocked.values()].filter((block) => block.until > now).map((block) => ({ ...block }));
  }

  /** Forgets every violation and block (admin reset). */
  clear(): void {
    this.violations.clear();
    this.blocked.clear();
    this.changed = true;
  }

  /** Everything it remembers, for the state file and snapshots. */
  exportState(): FirewallState {
    return {
      violations: [...this.violations].map(([client, times]) => ({ client, times: [...times] })),
      blocks: [...this.blocked.values()].map((block) => ({ ...block })),
    };
  }

  /** Replaces what it remembers with a saved state. */
  importState(state: FirewallState): void {
    this.violations.clear();
    this.blocked.clear();
    for (const { client, times } of state.violations) this.violations.set(client, [...times]);
    for (const block of state.blocks) this.blocked.set(block.client, { ...block });
    this.changed = false;
  }

  /** The first rule a request breaks, if any: headers, then the query, then the body. */
  private inspect(request: FirewallRequest): Violation | undefined {
    const { headers } = request;
    const missing: string[] = [];
    if (!present(headers.accept)) missing.push('Accept');
    if (!present(headers.host)) missing.push('Host');
    if (!present(headers['user-agent'])) missing.push('User-Agent');
    // realistic: the content headers describe a body, so only a request that sends one needs them.
    const length = headerValue(headers['content-length']);
    const sendsBody = this.config.profile === 'strict' || headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0);
    if (sendsBody) {
      if (!present(headers['content-type'])) missing.push('Content-Type');
      if (!present(headers['content-length'])) missing.push('Content-Length');
    }
    if (missing.length > 0) {
      return { rule: `header-${missing[0].toLowerCase()}` as FirewallRule, detail: `missing header${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` };
    }
    const { search } = request;
    if (search) {
      if (RAW_TRAVERSAL.test(search)) return { rule: 'path-traversal', detail: `query ${shown(search)}` };
      const found = checkParameters(new URLSearchParams(search), 'query');
      if (found) return found;
    }
    if (request.body && request.body.length > 0) return checkBody(request.body, headerValue(headers['content-type'])?.toLowerCase() ?? '');
    return undefined;
  }

  /** Counts a violation; `blockAfter` of them within the window block the client for `blockSeconds`. */
  private record(client: string, rule: FirewallRule): void {
    const { blockAfter, blockWindowSeconds, blockSeconds } = this.config;
    if (!(blockAfter > 0) || !(blockSeconds > 0)) return;
    const now = this.now();
    const since = now - blockWindowSeconds * 1000;
    this.changed = true;
    let times = this.violations.get(client);
    if (!times) {
      if (this.violations.size >= 1024) this.forgetBefore(since);
      this.violations.set(client, (times = []));
    }
    let stale = 0;
    while (stale < times.length && times[stale] <= since) stale++;
    if (stale > 0) times.splice(0, stale);
    times.push(now);
    if (times.length >= blockAfter) {
      this.violations.delete(client);
      this.blocked.set(client, { client, until: now + blockSeconds * 1000, rule });
    }
  }

  /** Drops the clients whose violations are all out of the window (many clients, each once: the map stays bounded). */
  private forgetBefore(since: number): void {
    for (const [client, times] of this.violations) if (times.length === 0 || times[times.length - 1] <= since) this.violations.delete(client);
    const now = this.now();
    for (const [client, block] of this.blocked) if (block.until <= now) this.blocked.delete(client);
  }
}
