import type { MockApp } from './app.js';
import { parseDuration } from './clock.js';
import { grantRefreshToken } from './b2c/token.js';
import { parseFault, type Fault } from './faults.js';
import { FIREWALL_RULES } from './firewall.js';
import type { User } from './domain/model.js';
import type { Tenant } from './identity.js';
import { toHar } from './journal.js';
import type { Outcome } from './outcome.js';

const problem = (status: number, message: string): Outcome => ({ status, body: { error: message } });

function readJson(body: Buffer | null): { ok: true; value: Record<string, unknown> } | { ok: false; outcome: Outcome } {
  if (!body || body.length === 0) return { ok: true, value: {} };
  try {
    const value = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, outcome: problem(400, 'the body must be a JSON object') };
    return { ok: true, value: value as Record<string, unknown> };
  } catch (error) {
    return { ok: false, outcome: problem(400, `the body is not valid JSON: ${(error as Error).message}`) };
  }
}

/** Every admin route, `METHOD /path`: a known path asked with another method answers 405 with `Allow`, as the G-REX routes do. */
const ADMIN_ROUTES = [
  'GET /__admin',
  'GET /__admin/health',
  'POST /__admin/token',
  'POST /__admin/refresh-token',
  'GET /__admin/clock',
  'POST /__admin/clock',
  'POST /__admin/reset',
  'POST /__admin/snapshot',
  'POST /__admin/restore',
  'GET /__admin/journal',
  'DELETE /__admin/journal',
  'GET /__admin/state',
  'GET /__admin/mfa',
  'GET /__admin/b2c',
  'POST /__admin/b2c',
  'GET /__admin/firewall',
  'POST /__admin/firewall',
  'GET /__admin/fairuse',
  'POST /__admin/fairuse',
  'GET /__admin/faults',
  'POST /__admin/faults',
  'DELETE /__admin/faults',
  'GET /__admin/users',
];

/** The methods a known admin path takes (none for an unknown path). */
export function adminMethods(pathname: string): string[] {
  const path = pathname.replace(/\/+$/, '');
  return ADMIN_ROUTES.filter((route) => route.slice(route.indexOf(' ') + 1) === path).map((route) => route.slice(0, route.indexOf(' ')));
}

/**
 * The admin API, off the G-REX paths and never rate-limited: tokens for
 * fixture users, the clock, reset, the journal and a summary of the state.
 */
export function handleAdmin(app: MockApp, method: string, pathname: string, query: URLSearchParams, body: Buffer | null, origin: string): Outcome {
  const route = `${method} ${pathname.replace(/\/+$/, '')}`;
  switch (route) {
    case 'GET /__admin':
    case 'GET /__admin/health':
      return {
        status: 200,
        body: {
          status: 'ok',
          clock: app.clock.iso(),
          journal: { size: app.journal.size, recorded: app.journal.recorded },
          selfCheckFailures: app.selfCheckFailures,
          stateFile: app.stateFile ?? null,
        },
      };
    case 'POST /__admin/token':
      return token(app, body);
    case 'POST /__admin/refresh-token':
      return refreshToken(app, body);
    case 'GET /__admin/clock':
      return { status: 200, body: { now: app.clock.iso() } };
    case 'POST /__admin/clock':
      return clock(app, body);
    case 'POST /__admin/reset':
      return replaced(() => app.reset(), () => ({ reset: true, now: app.clock.iso() }));
    case 'POST /__admin/snapshot':
      return { status: 200, body: JSON.stringify(app.snapshot()) };
    case 'POST /__admin/restore':
      return restore(app, body);
    case 'GET /__admin/journal':
      return journal(app, query, origin);
    case 'DELETE /__admin/journal':
      app.journal.clear();
      return { status: 200, body: { cleared: true } };
    case 'GET /__admin/state':
      return { status: 200, body: state(app) };
    case 'GET /__admin/mfa':
      return mfa(app, query);
    case 'GET /__admin/b2c':
      return { status: 200, body: { strictRotation: app.b2c.strictRotation, lifetimes: app.b2c.lifetimes } };
    case 'POST /__admin/b2c':
      return b2cSettings(app, body);
    case 'GET /__admin/firewall':
      return { status: 200, body: { config: app.firewall.config, blocks: app.firewall.blocks() } };
    case 'POST /__admin/firewall':
      return firewallSettings(app, body);
    case 'GET /__admin/fairuse':
      return { status: 200, body: { config: app.fairUse.config, blocks: app.fairUse.blocks() } };
    case 'POST /__admin/fairuse':
      return fairUseSettings(app, body);
    case 'GET /__admin/faults':
      return { status: 200, body: { faults: app.faults.all } };
    case 'POST /__admin/faults':
      return faults(app, body);
    case 'DELETE /__admin/faults':
      app.faults.clear();
      return { status: 200, body: { faults: [] } };
    case 'GET /__admin/users':
      return {
        status: 200,
        body: [...app.registry.users.values()].map((user) => ({
          username: user.username,
          displayName: user.displayName,
          organization: app.registry.organizations.get(user.organizationId)?.name,
          roles: user.roles,
          status: user.status,
        })),
      };
    default: {
      const allowed = adminMethods(pathname);
      if (allowed.length) return { status: 405, headers: { allow: allowed.join(', ') }, body: { error: `${pathname.replace(/\/+$/, '')} takes ${allowed.join(' or ')}, not ${method}` } };
      return problem(404, `no admin resource ${route}; see GET /__admin/health, POST /__admin/token, POST /__admin/refresh-token, GET /__admin/mfa, GET|POST /__admin/b2c, GET|POST /__admin/firewall, GET|POST /__admin/fairuse, GET|POST /__admin/clock, POST /__admin/reset, POST /__admin/snapshot, POST /__admin/restore, GET|DELETE /__admin/journal, GET /__admin/state, GET /__admin/users, GET /__admin/mfa?user=, GET|POST|DELETE /__admin/faults (test only)`);
    }
  }
}

/** A body over the admin API's limit (`limit` bytes), answered in the envelope of the route's other refusals. */
export function adminBodyTooLarge(pathname: string, limit: number): Outcome {
  const message = `the body is over ${limit / 1024 / 1024} MiB, the admin API's limit`;
  return pathname.replace(/\/+$/, '') === '/__admin/restore' ? restoreRefused(413, [message]) : problem(413, message);
}

/** A whole-state replacement; when the state file cannot take it, nothing is replaced (500). */
function replaced(replace: () => void, body: object | (() => object)): Outcome {
  try {
    replace();
  } catch (error) {
    return problem(500, `nothing was replaced: ${(error as Error).message}`);
  }
  return { status: 200, body: typeof body === 'function' ? body() : body };
}

const REFUSED = 'the document was refused; nothing changed';

/** A refusal of POST /__admin/restore: the state is unchanged, and the problems say why (each with its place in the document, when it has one). */
export const restoreRefused = (status: number, problems: string[]): Outcome => ({ status, body: { error: REFUSED, problems } });

/** A snapshot document (POST /__admin/snapshot's answer) replaces the whole state, or is refused with its problems and changes nothing. */
function restore(app: MockApp, body: Buffer | null): Outcome {
  const parsed = body && body.length > 0 ? readJson(body) : undefined;
  if (!parsed || (!parsed.ok && body?.toString('utf8').trim() === '')) {
    return restoreRefused(400, ['the body is empty: send a state document (what POST /__admin/snapshot answers)']);
  }
  if (!parsed.ok) return restoreRefused(parsed.outcome.status, [(parsed.outcome.body as { error: string }).error]);
  let problems: string[] = [];
  const outcome = replaced(
    () => (problems = app.restore(parsed.value)),
    () => ({ restored: true, now: app.clock.iso(), ...counts(app) }),
  );
  return problems.length ? restoreRefused(400, problems) : outcome;
}

function counts(app: MockApp): object {
  const registry = app.registry;
  return { organizations: registry.organizations.size, users: registry.users.size, accounts: registry.accounts.size, bundles: registry.bundles.size, transactions: registry.transactions.size };
}

/**
 * Test-only faults: one fault object, or `{"faults": [...]}`. All are checked
 * before any is added, so a bad list changes nothing.
 */
export function faults(app: MockApp, body: Buffer | null): Outcome {
  const parsed = readJson(body);
  if (!parsed.ok) return parsed.outcome;
  const list = Array.isArray(parsed.value.faults) ? (parsed.value.faults as unknown[]) : [parsed.value];
  const checked = list.map((value) => parseFault(value, (code) => app.codes.has(code), FIREWALL_RULES));
  const refused = checked.findIndex((fault) => typeof fault === 'string');
  if (refused >= 0) return problem(400, `fault ${refused + 1}: ${checked[refused] as string}`);
  for (const fault of checked as Fault[]) app.faults.add(fault);
  return { status: 200, body: { faults: app.faults.all } };
}

const positive = (value: unknown): boolean => typeof value === 'number' && Number.isInteger(value) && value >= 1;

/** The gateway firewall's settings: profile, diagnostics header, blocking of repeated violations. */
export function firewallSettings(app: MockApp, body: Buffer | null): Outcome {
  const parsed = readJson(body);
  if (!parsed.ok) return parsed.outcome;
  const next = { ...app.firewall.config };
  for (const [name, value] of Object.entries(parsed.value)) {
    if (name === 'profile') {
      if (value !== 'strict' && value !== 'realistic') return problem(400, 'profile must be strict or realistic');
      next.profile = value;
    } else if (name === 'enabled' || name === 'diagnostics') {
      if (typeof value !== 'boolean') return problem(400, `${name} must be true or false`);
      next[name] = value;
    } else if (name === 'blockAfter' || name === 'blockWindowSeconds' || name === 'blockSeconds') {
      if (!positive(value)) return problem(400, `${name} must be a positive integer`);
      next[name] = value as number;
    } else return problem(400, `unknown firewall setting ${name}; known: ${Object.keys(next).join(', ')}`);
  }
  app.firewall.config = next;
  return { status: 200, body: { config: next, blocks: app.firewall.blocks() } };
}

const validLimits = (value: unknown): value is { requests: number; windowSeconds: number }[] =>
  Array.isArray(value) && value.length > 0 && value.every((limit) => positive(limit?.requests) && positive(limit?.windowSeconds) && Object.keys(limit).length === 2);

/** The fair-use policy's settings: limits, blocking, per-caller overrides (organisation id, or ip:<address>). */
export function fairUseSettings(app: MockApp, body: Buffer | null): Outcome {
  const parsed = readJson(body);
  if (!parsed.ok) return parsed.outcome;
  const next = { ...app.fairUse.config };
  for (const [name, value] of Object.entries(parsed.value)) {
    if (name === 'enabled') {
      if (typeof value !== 'boolean') return problem(400, 'enabled must be true or false');
      next.enabled = value;
    } else if (name === 'limits') {
      if (!validLimits(value)) return problem(400, 'limits must be a list of {"requests": n, "windowSeconds": s}');
      next.limits = value;
    } else if (name === 'blockAfter' || name === 'blockSeconds') {
      if (!positive(value)) return problem(400, `${name} must be a positive integer`);
      next[name] = value as number;
    } else if (name === 'overrides') {
      if (typeof value !== 'object' || value === null || !Object.values(value).every(validLimits)) return problem(400, 'overrides must map a caller to a list of limits');
      next.overrides = value as typeof next.overrides;
    } else return problem(400, `unknown fair-use setting ${name}; known: ${Object.keys(next).join(', ')}`);
  }
  app.fairUse.config = next;
  return { status: 200, body: { config: next, blocks: app.fairUse.blocks() } };
}

/** B2C's policy settings: token lifetimes (seconds; slidingWindowSeconds null is "No expiry") and the strict refresh-token rotation. */
function b2cSettings(app: MockApp, body: Buffer | null): Outcome {
  const parsed = readJson(body);
  if (!parsed.ok) return parsed.outcome;
  const { strictRotation, lifetimes = {} } = parsed.value as { strictRotation?: unknown; lifetimes?: Record<string, unknown> };
  if (strictRotation !== undefined && typeof strictRotation !== 'boolean') return problem(400, 'strictRotation must be true or false');
  const next = { ...app.b2c.lifetimes };
  for (const [name, value] of Object.entries(lifetimes ?? {})) {
    if (!(name in next)) return problem(400, `unknown lifetime ${name}; known: ${Object.keys(next).join(', ')}`);
    const nullable = name === 'slidingWindowSeconds' && value === null;
    if (!nullable && (typeof value !== 'number' || !Number.isInteger(value) || value < 1)) return problem(400, `${name} must be a positive integer of seconds${name === 'slidingWindowSeconds' ? ' or null' : ''}`);
    (next as Record<string, unknown>)[name] = value;
  }
  app.b2c.lifetimes = next;
  if (strictRotation !== undefined) app.b2c.strictRotation = strictRotation;
  return { status: 200, body: { strictRotation: app.b2c.strictRotation, lifetimes: app.b2c.lifetimes } };
}

/** The fixture user and tenant a token request names (`{"user", "tenant"?}`, gcrfdemo by default), or the answer saying why not. */
function userAndTenant(app: MockApp, fields: Record<string, unknown>): { user: User; tenant: Tenant } | Outcome {
  const { user: username, tenant: tenantName = 'gcrfdemo' } = fields;
  if (typeof username !== 'string' || !username) return problem(400, 'give {"user": "<username>"}; GET /__admin/users lists them');
  const user = app.registry.usersByName.get(username.toLowerCase());
  if (!user) return problem(404, `no fixture user "${username}"; GET /__admin/users lists them`);
  const tenant = typeof tenantName === 'string' ? app.tokens.tenant(tenantName) : undefined;
  if (!tenant) return problem(400, `tenant must be one of ${app.tokens.tenants.map((t) => t.name).join(', ')}`);
  return { user, tenant };
}

function token(app: MockApp, body: Buffer | null): Outcome {
  const parsed = readJson(body);
  if (!parsed.ok) return parsed.outcome;
  const named = userAndTenant(app, parsed.value);
  if (!('user' in named)) return named;
  const { user, tenant } = named;
  const { lifetimeSeconds } = parsed.value;
  if (lifetimeSeconds !== undefined && (typeof lifetimeSeconds !== 'number' || !Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 1 || lifetimeSeconds > 86_400)) {
    return problem(400, 'lifetimeSeconds must be an integer from 1 to 86400');
  }
  const issued = app.tokens.issueAccessToken({ oid: user.userId, name: user.displayName, email: user.email }, tenant, { lifetimeSeconds: lifetimeSeconds as number | undefined });
  return {
    status: 200,
    body: { access_token: issued.token, token_type: 'Bearer', expires_in: issued.claims.exp - issued.claims.iat, expires_on: issued.claims.exp, user: user.username, tenant: tenant.name },
  };
}

/**
 * A B2C refresh token of the tenant's native client for a fixture user, as
 * after a PKCE sign-in with MFA: what a client configured "as a user would"
 * (a Postman environment and a refresh token) starts from.
 */
function refreshToken(app: MockApp, body: Buffer | null): Outcome {
  const parsed = readJson(body);
  if (!parsed.ok) return parsed.outcome;
  const named = userAndTenant(app, parsed.value);
  if (!('user' in named)) return named;
  const { user, tenant } = named;
  const grant = grantRefreshToken(app.b2c, tenant, user.userId);
  return {
    status: 200,
    body: {
      refresh_token: grant.token,
      client_id: grant.clientId,
      scope: grant.scope,
      token_endpoint: `/${tenant.name}.onmicrosoft.com/${tenant.policy}/oauth2/v2.0/token`,
      user: user.username,
      tenant: tenant.name,
    },
  };
}

/** The last MFA code "sent by SMS" to a user: how a test (or a person without the fixture's phone) finishes a sign-in. */
function mfa(app: MockApp, query: URLSearchParams): Outcome {
  const username = query.get('user');
  if (!username) return problem(400, 'give ?user=<username>; GET /__admin/users lists them');
  const user = app.registry.usersByName.get(username.toLowerCase());
  const sent = user ? app.b2c.mfaCodes.get(user.userId) : undefined;
  if (!user || !sent) return problem(404, `no MFA code pending for "${username}": none was sent since the last reset, or it was used`);
  return { status: 200, body: { user: user.username, code: sent.code, sentAt: new Date(sent.issuedAt).toISOString() } };
}

function clock(app: MockApp, body: Buffer | null): Outcome {
  const parsed = readJson(body);
  if (!parsed.ok) return parsed.outcome;
  const { now, advance } = parsed.value;
  if ((now === undefined) === (advance === undefined)) return problem(400, 'give either {"now": "<ISO-8601 instant>"} or {"advance": "<ISO-8601 duration>"}');
  if (now !== undefined) {
    const at = typeof now === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(now) ? Date.parse(now) : Number.NaN;
    if (Number.isNaN(at)) return problem(400, `now must be an ISO-8601 instant such as 2026-11-02T08:00:00Z, got ${JSON.stringify(now)}`);
    app.clock.set(at);
  } else {
    const ms = typeof advance === 'string' ? parseDuration(advance) : null;
    if (ms === null) return problem(400, `advance must be an ISO-8601 duration such as PT90S or P1D, got ${JSON.stringify(advance)}`);
    app.clock.advance(ms);
  }
  return { status: 200, body: { now: app.clock.iso() } };
}

/** `origin`: the mock's, as the admin request reached it; the HAR's URLs are absolute. */
function journal(app: MockApp, query: URLSearchParams, origin: string): Outcome {
  const limit = query.has('limit') ? Number(query.get('limit')) : undefined;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) return problem(400, 'limit must be a positive integer');
  const format = query.get('format') ?? 'ndjson';
  if (format === 'har') return { status: 200, body: toHar(app.journal.entries(limit), origin) };
  if (format !== 'ndjson') return problem(400, 'format must be ndjson (default) or har');
  const lines = app.journal.lines(limit);
  return { status: 200, body: lines.join('\n') + (lines.length ? '\n' : ''), contentType: 'application/x-ndjson; charset=utf-8' };
}

function state(app: MockApp): object {
  const registry = app.registry;
  const count = <T>(values: Iterable<T>, key: (value: T) => string): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const value of values) counts[key(value)] = (counts[key(value)] ?? 0) + 1;
    return counts;
  };
  return {
    clock: app.clock.iso(),
    organizations: registry.organizations.size,
    users: registry.users.size,
    accounts: registry.accounts.size,
    devices: count(registry.devices.values(), (device) => device.status),
    bundles: count(registry.bundles.values(), (bundle) => bundle.status),
    volumeMWh: [...registry.bundles.values()].reduce<Record<string, number>>((sums, bundle) => {
      sums[bundle.status] = (sums[bundle.status] ?? 0) + bundle.volumeMWh;
      return sums;
    }, {}),
    transactions: count(registry.transactions.values(), (transaction) => transaction.type),
    scheduled: count(registry.scheduled.values(), (item) => item.status),
    issuanceRequests: count(registry.issuanceRequests.values(), (item) => item.status),
    journal: { size: app.journal.size, recorded: app.journal.recorded },
  };
}
