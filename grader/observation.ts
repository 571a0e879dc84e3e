import { createHash } from 'node:crypto';
import type { Contract } from '../contracts/lib/load.js';
import type { Decision, Exchange } from '../mock/journal.js';
import { B2C_PATH, Router, WRITE_METHODS } from '../mock/router.js';
import { BoundedMap } from './rule.js';

/** What the rules need of a bearer token, read from its payload without verifying it (the grader judges the client, not the token). */
export interface TokenFacts {
  /** A digest of the whole token: the proxy's journal redacts signatures, so they cannot tell tokens apart. */
  key: string;
  /** Expiry, ms since the epoch, on the issuer's clock. */
  exp?: number;
  /** Issue time (`iat`, else `nbf`), ms, on the issuer's clock: what ties that clock to the journal's. */
  iat?: number;
  oid?: string;
}

/**
 * - `api`: a request to one of the six G-REX APIs;
 * - `authorize`, `token`: B2C's authorize and token endpoints;
 * - `b2c`: the rest of B2C (sign-in pages, discovery, keys).
 */
export type Kind = 'api' | 'authorize' | 'token' | 'b2c';

/** One journal exchange as the rules see it: parsed once, shared by every rule. */
export interface Observation {
  exchange: Exchange;
  /** 1-based line of the journal (entry number for HAR). */
  line: number;
  kind: Kind;
  /** Start and end on the mock's clock (or the proxy's), ms. */
  at: number;
  end: number;
  method: string;
  path: string;
  /** The query string without `?`. */
  search: string;
  status: number;
  operationId?: string;
  /** A GET of a collection: its operation takes `$top`. */
  collection: boolean;
  write: boolean;
  /** The account holder fair use counts against (manual 1.2): the organisation, else the user, else the client address. */
  holder: string;
  token?: TokenFacts;
  hasBody: boolean;
}


export function decision(exchange: Exchange, stage: Decision['stage']): Decision | undefined {
  for (const entry of exchange.decisions) if (entry.stage === stage) return entry;
  return undefined;
}

export function header(exchange: Exchange, name: string): string | undefined {
  const value = exchange.request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Turns journal exchanges into observations. It knows the contracts (which
 * paths are G-REX APIs, which operations are collections) and learns which
 * organisation each user belongs to from the exchanges that say so, so that
 * requests the mock refused before authenticating (fair use, firewall) and
 * proxied traffic still count against the right account holder.
 */
export class Observer {
  private readonly apis: Set<string>;
  private readonly router: Router;
  private readonly collections = new Set<string>();
  private readonly tokens = new BoundedMap<string, TokenFacts>(4096);
  /** Each client's last Authorization header and its facts: a client sends the same token many times running. */
  private readonly lastToken = new BoundedMap<string, { authorization: string; facts: TokenFacts | undefined }>(10_000);
  private readonly organizationOfUser = new BoundedMap<string, string>(100_000);

  constructor(contracts: Contract[]) {
    this.apis = new Set(contracts.filter((contract) => contract.grex.api !== 'b2c').map((contract) => contract.grex.api.toLowerCase()));
    this.router = new Router(contracts);
    for (const route of this.router.routes) {
      if (route.method === 'get' && route.parameters.some((parameter) => parameter.name === '$top')) this.collections.add(route.operationId);
    }
  }

  observe(exchange: Exchange, line: number): Observation | null {
    let url = exchange.request.url;
    if (url.startsWith('http://') || url.startsWith('https://')) {
      const slash = url.indexOf('/', url.indexOf('//') + 2);
      url = slash < 0 ? '/' : url.slice(slash);
    }
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    const search = mark < 0 ? '' : url.slice(mark + 1);
    const method = exchange.request.method.toUpperCase();
    let kind: Kind;
    if (B2C_PATH.test(path)) {
      const lower = path.toLowerCase();
      kind = lower.endsWith('/oauth2/v2.0/authorize') ? 'authorize' : lower.endsWith('/oauth2/v2.0/token') ? 'token' : 'b2c';
    } else {
      const second = path.indexOf('/', 1);
      if (!this.apis.has(path.slice(1, second < 0 ? undefined : second).toLowerCase())) return null;
      kind = 'api';
    }
    let operationId = exchange.operationId;
    if (operationId === undefined && kind === 'api') {
      const match = this.router.match(method, path);
      if (match.kind === 'found') operationId = match.route.operationId;
    }
    const at = Date.parse(exchange.startedAt);
    const token = kind === 'api' ? this.tokenFor(exchange.client, header(exchange, 'authorization')) : undefined;
    const body = exchange.request.body;
    return {
      exchange,
      line,
      kind,
      at,
      end: at + (exchange.durationMs || 0),
      method,
      path,
      search,
      status: exchange.response.status,
      operationId,
      collection: method === 'GET' && operationId !== undefined && this.collections.has(operationId),
      write: WRITE_METHODS.has(method),
      holder: kind === 'api' ? this.holderOf(exchange, token) : `client:${exchange.client}`,
      token,
      hasBody: body !== undefined && body !== '',
    };
  }

  private holderOf(exchange: Exchange, token: TokenFacts | undefined): string {
    let organization = exchange.organization;
    if (!organization) {
      const counted = decision(exchange, 'fairuse')?.detail;
      if (counted && !counted.startsWith('ip:')) organization = counted;
    }
    if (organization) {
      if (token?.oid) this.organizationOfUser.set(token.oid, organization);
      return organization;
    }
    if (token?.oid) return this.organizationOfUser.get(token.oid) ?? `user:${token.oid}`;
    return `client:${exchange.client}`;
  }

  private tokenFor(client: string, authorization: string | undefined): TokenFacts | undefined {
    if (authorization === undefined) return undefined;
    const last = this.lastToken.get(client);
    if (last?.authorization === authorization) return last.facts;
    const facts = this.tokenOf(authorization);
    this.lastToken.set(client, { authorization, facts });
    return facts;
  }

  private tokenOf(authorization: string): TokenFacts | undefined {
    if (!/^bearer /i.test(authorization)) return undefined;
    const jwt = authorization.slice(7).trim();
    const known = this.tokens.get(jwt);
    if (known !== undefined) return known;
    const parts = jwt.split('.');
    const key = createHash('sha1').update(jwt).digest('base64');
    let facts: TokenFacts = { key };
    try {
      const payload = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown; iat?: unknown; nbf?: unknown; oid?: unknown; sub?: unknown };
      if (typeof payload.exp === 'number') facts.exp = payload.exp * 1000;
      const issued = typeof payload.iat === 'number' ? payload.iat : payload.nbf;
      if (typeof issued === 'number') facts.iat = issued * 1000;
      const oid = typeof payload.oid === 'string' ? payload.oid : typeof payload.sub === 'string' ? payload.sub : undefined;
      if (oid) facts.oid = oid;
    } catch {
      facts = { key };
    }
    this.tokens.set(jwt, facts);
    return facts;
  }
}
