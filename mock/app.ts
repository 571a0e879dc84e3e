import type { IncomingMessage, ServerResponse } from 'node:http';
import { codeCatalogue } from '../contracts/lib/codes.js';
import type { ContractSet } from '../contracts/lib/load.js';
import { collectionItems, deref, type CollectionItems } from '../contracts/lib/operations.js';
import { SchemaValidator } from '../contracts/lib/schema.js';
import { accessOf, bindingOf, sourceOf, type OperationSource, type ServedBinding } from '../contracts/lib/served.js';
import type { JsonObject, OpenApiDocument } from '../contracts/lib/types.js';
import { generateRegistry } from '../fixtures/generate.js';
import { Clock } from './clock.js';
import { createDocs, docsPath } from './docs.js';
import type { RegistryData } from './domain/model.js';
import { parseFilter, parseOrderBy } from './domain/query.js';
import { Registry } from './domain/registry.js';
import { handlers as allHandlers, installers } from './handlers/index.js';
import type { Caller, Handler, Reply, RequestContext } from './handlers/kit.js';
import { B2CService } from './b2c/service.js';
import { DEFAULT_FAIR_USE, FairUseLimiter, type FairUseConfig } from './fairuse.js';
import { DEFAULT_FIREWALL, Firewall, type FirewallConfig } from './firewall.js';
import { b2cTokenContractRefusal } from './handlers/b2c-token.js';
import { registryUiPage } from './ui.js';
import { TokenAuthority, type Tenant } from './identity.js';
import { Faults, type Decided } from './faults.js';
import { Journal, originOf, type Decision, type Exchange } from './journal.js';
import { Codes, type Outcome } from './outcome.js';
import { B2C_PATH, Router, WRITE_METHODS, type Route } from './router.js';
import { RequestValidator } from './validation.js';
import { adminBodyTooLarge, handleAdmin } from './admin.js';
import { preferredMediaType } from './negotiation.js';
import { toContractNames, toServedNames } from './renames.js';
import { sampleOf } from './sample.js';
import { DataContractWriter, xmlDeclaration, type XmlDeclaration } from './xml.js';
import { STATE_FORMAT, STATE_VERSION, StateChecker, takeState, type StateDocument } from './state/document.js';
import { DurableState } from './state/durable.js';
import type { StateOrigin, StateStore } from './state/store.js';

export interface MockConfig {
  /** Validate every response against its contract; a mismatch becomes a loud 500 (for tests). */
  selfCheck: boolean;
  journalCapacity: number;
  /**
   * Milliseconds the registry takes over each write to the six APIs before
   * answering (0: at once). The journal's `startedAt` is the arrival and its
   * `durationMs` includes the wait, so a client that sends a write before the
   * previous one was answered (manual 1.3.2) shows in the journal.
   */
  writeLatencyMs?: number;
  /** Bytes the journal's ring may take; 64 MiB when absent. */
  journalMaxBytes?: number;
  journalSpillFile?: string;
  maxBodyBytes: number;
  profile: 'default' | 'large';
  seed?: number;
  /** Where the clock starts (and returns on reset): the fixtures' epoch unless given. */
  clockStart?: number;
  firewall: FirewallConfig;
  fairUse: FairUseConfig;
  /**
   * Let browser pages of other origins call the mock (Swagger UI or a web
   * client elsewhere): preflights answered, `Access-Control-Allow-*` on every
   * answer. Off: no CORS headers and OPTIONS routed like any method, which
   * is as much as is known of G-REX. On unless false.
   */
  cors?: boolean;
}

export const DEFAULT_CONFIG: MockConfig = {
  selfCheck: false,
  journalCapacity: 10_000,
  maxBodyBytes: 1_048_576,
  profile: 'default',
  firewall: DEFAULT_FIREWALL,
  fairUse: DEFAULT_FAIR_USE,
};

/**
 * The B2C tenants of the manual's Appendices 2 and 5, each with the G-REX
 * host that takes its tokens. DEMO's API app id is not published ("GCR" in
 * App. 5): a stand-in GUID.
 */
export const TENANTS: Tenant[] = [
  {
    name: 'gcrfdemo',
    environment: 'DEMO',
    tenantId: '5b1c7f0e-3d0a-4f3e-9a52-6d1f0c3e2a71',
    policy: 'B2C_1_SignIn',
    clientId: '9e818394-185c-47e7-8b93-714714bfcf8f',
    appId: '4c2d6a8e-9b1f-4e3a-8d7c-2f5e1a0b9c3d',
    replyUrl: 'https://gcrfdemo.b2clogin.com/oauth2/nativeclient',
    apiHost: 'eexfrancedemoapi.grexel.com',
  },
  {
    name: 'gcrfr',
    environment: 'PROD',
    tenantId: '8e2a4c6f-1b3d-4a5e-9c7f-0d2b4e6a8c1e',
    policy: 'B2C_1_SignIn',
    clientId: '57652e54-8e9d-49b4-bcb8-402c95e8c020',
    appId: '57652e54-8e9d-49b4-bcb8-402c95e8c020',
    replyUrl: 'https://gcrfr.b2clogin.com/oauth2/nativeclient',
    apiHost: 'eexfranceapi.grexel.com',
  },
];

interface RouteMeta {
  validator: RequestValidator;
  handler: Handler | undefined;
  /** An operation of G-REX's own document served with the contract's handler: the fields to rename. */
  binding?: ServedBinding;
  anonymous: boolean;
  grants: { roles: Set<string>; scope: string }[];
  /** The codes this operation answers for model validation, content type and `$top` above its maximum. */
  modelCode?: string;
  contentTypeCode?: string;
  topCode?: string;
  /** What a collection can be filtered and ordered by: its item schema's name and properties. */
  items?: CollectionItems;
  schemas: SchemaValidator;
}

export const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * On every answer when CORS is on; made once. Any origin: the APIs take a
 * bearer token, not cookies. Exposed: what a client must read to behave (the
 * 429's Retry-After, the 401's WWW-Authenticate, the 405's Allow, the mock's
 * diagnostics).
 */
const CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Retry-After, WWW-Authenticate, Allow, Location, Content-Disposition, x-grex-firewall-rule, x-grex-self-check',
});
const PREFLIGHT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...CORS_HEADERS,
  'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
  'access-control-max-age': '600',
  'content-length': '0',
});
/** The request headers a preflight may ask for, echoed when they are a plain list of header names. */
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;
const DEFAULT_ALLOWED_HEADERS = 'Authorization, Content-Type, Accept';
/** The admin API takes larger bodies than the G-REX APIs: a restored snapshot of the large profile is about 140 MB. */
export const ADMIN_MAX_BODY_BYTES = 256 * 1024 * 1024;

/**
 * A reason as an HTTP quoted-string (RFC 9110 5.6.4): `"` and `\` escaped, so
 * that clients' challenge parsers read it whole (`the Authorization header is
 * not "Bearer {token}"`); a character a header cannot carry becomes `?`.
 */
const quotedString = (text: string): string => `"${text.replace(/[^\t\x20-\x7e]/g, '?').replace(/["\\]/g, '\\$&')}"`;

const NO_QUERY = new URLSearchParams();

const windowName = (seconds: number): string => (seconds === 60 ? 'minute' : seconds === 3600 ? 'hour' : `${seconds} seconds`);

/** A user's roles as a set, made once per user record and again only when its roles change. */
const roleSets = new WeakMap<object, Set<string>>();
function rolesOf(user: Caller['user']): Set<string> {
  let roles = roleSets.get(user);
  if (!roles || roles.size !== user.roles.length || user.roles.some((role) => !roles?.has(role))) roleSets.set(user, (roles = new Set(user.roles)));
  return roles;
}

function holdsAny(held: ReadonlySet<string>, granted: ReadonlySet<string>): boolean {
  for (const role of held) if (granted.has(role)) return true;
  return false;
}

/** When a delayed write arrived: on the mock's clock, and for its duration. */
interface Arrival {
  at: string;
  perf: number;
}

/** A write to one of the six APIs: not B2C's (Microsoft's service), not the admin API. */
function isWrite(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  return WRITE_METHODS.has(req.method ?? '') && !url.startsWith('/__admin') && !B2C_PATH.test(url);
}

/**
 * The mock registry: one request pipeline over the contracts, the domain and
 * the journal (DESIGN.md):
 * route (404/405) -> auth (401) -> permission (403) -> validate (_004/_002) -> handler -> self-check -> journal.
 */
export class MockApp {
  readonly router: Router;
  readonly codes: Codes;
  readonly clock: Clock;
  readonly tokens: TokenAuthority;
  readonly journal: Journal;
  readonly b2c: B2CService;
  readonly firewall: Firewall;
  readonly fairUse: FairUseLimiter;
  /** Test-only faults (none unless asked for): see faults.ts. */
  readonly faults = new Faults();
  registry: Registry;
  selfCheckFailures = 0;
  /**
   * The pristine fixtures that reset copies, for the default profile. The
   * large one (about 130 MB of objects) is not kept twice: its registry takes
   * the generated data itself, and reset generates it again from the seed.
   * A mock started from a state file generates them at its first reset.
   */
  private fixtures: RegistryData | undefined;
  /** The state file (--state): changes are committed before they are answered. */
  private durable: DurableState | undefined;
  private checker: StateChecker | undefined;
  private readonly meta = new Map<Route, RouteMeta>();
  private readonly docs: ReturnType<typeof createDocs>;
  /** The pages beside the APIs (documentation, the registry UI), which a path in another case misses. */
  private readonly pages: string[];
  private readonly cors: boolean;
  /** The CORS headers every answer carries: none with `--cors off`. */
  readonly corsHeaders: Readonly<Record<string, string>>;
  /** The gateway's 403 page, as the contracts give it. */
  private readonly firewallPage: string;
  /** DEMO's and PROD's API host names, each taking its own tenant's tokens only. */
  private readonly tenantByApiHost = new Map(TENANTS.map((tenant) => [tenant.apiHost, tenant]));
  /** XML content negotiation, where common.yaml declares it. */
  private readonly xml: XmlDeclaration | undefined;
  private readonly xmlWriters = new Map<OpenApiDocument, DataContractWriter>();

  /** `initial`: a state to start from (a state file's) instead of the fixtures. */
  constructor(
    readonly contracts: ContractSet,
    readonly config: MockConfig = DEFAULT_CONFIG,
    handlers: Record<string, Handler> = allHandlers,
    initial?: StateDocument,
  ) {
    const generated = initial ? undefined : generateRegistry({ seed: config.seed, profile: config.profile });
    this.fixtures = config.profile === 'large' ? undefined : generated;
    this.clock = new Clock(initial ? Date.parse(initial.clock) : this.start(generated as RegistryData));
    this.tokens = new TokenAuthority(this.clock, TENANTS);
    this.b2c = new B2CService(this.clock, this.tokens);
    this.firewall = new Firewall(structuredClone(config.firewall), () => this.clock.now());
    this.fairUse = new FairUseLimiter(structuredClone(config.fairUse), () => this.clock.now());
    this.firewallPage = String((contracts.common.components?.examples?.FirewallBlock as { value?: unknown } | undefined)?.value ?? '<html><body><h1>403 Forbidden</h1></body></html>');
    this.journal = new Journal({ capacity: config.journalCapacity, maxBytes: config.journalMaxBytes, maxBodyChars: 65_536, spillFile: config.journalSpillFile });
    // The domain answers the reconstructed contracts' codes, also where G-REX's own documents are served.
    this.codes = new Codes(codeCatalogue(contracts.reconstructed ?? contracts));
    this.xml = xmlDeclaration(contracts.common);
    this.router = new Router(contracts.contracts);
    this.cors = config.cors !== false;
    this.corsHeaders = this.cors ? CORS_HEADERS : {};
    // The documentation pages are not journaled: a fault there shows only in the page.
    this.docs = createDocs(contracts.contracts, {
      exampleUsers: (contracts.common.info['x-example-users'] ?? []) as string[],
      headers: this.corsHeaders,
      bend: (page) => (this.faults.active ? this.faults.apply({ stage: 'docs' }, page, this.codes).outcome : page),
    });
    this.pages = ['/', '/__docs/', ...contracts.contracts.flatMap((contract) => [docsPath(contract), `${docsPath(contract)}swagger.json`])];
    const validators = new Map(contracts.contracts.map((contract) => [contract, new SchemaValidator(contract.doc)]));
    for (const route of this.router.routes) {
      const schemas = validators.get(route.contract) as SchemaValidator;
      // G-REX's own document: an operation the contract has keeps its handler, permissions and codes; the others answer from their examples.
      const source = sourceOf(contracts, route.contract, route.operation);
      const binding = route.contract.pulled && source ? bindingOf(route.operation) : undefined;
      const handler = route.contract.pulled ? (binding ? handlers[binding.handler] : undefined) : handlers[route.operationId];
      const meta = this.describe(route, schemas, handler, source ?? { operation: route.operation, doc: route.contract.doc });
      // A collection is filtered and ordered by the fields of the document served, G-REX's names included.
      this.meta.set(route, binding ? { ...meta, binding, items: collectionItems(route.contract.doc, route.operation) } : meta);
    }
    if (initial) {
      this.registry = this.registryOf(initial.registry, true);
      this.importLimitsAndGrants(initial);
    } else {
      this.registry = this.fixtures ? this.registryOf(this.fixtures, false) : this.registryOf(generated as RegistryData, true);
    }
    this.clock.onChange(() => this.registry.tick());
    // A state file's registry ticks once it is kept (persist): what falls due at load is written too.
    if (!initial) this.registry.tick();
  }

  /** Back to the fixtures: state, clock and journal. Keys and tokens stay valid. */
  reset(): void {
    const data = this.fixtures ?? generateRegistry({ seed: this.config.seed, profile: this.config.profile });
    if (this.config.profile !== 'large') this.fixtures = data;
    this.install({
      format: STATE_FORMAT,
      version: STATE_VERSION,
      clock: new Date(this.start(data)).toISOString(),
      registry: { ...(data === this.fixtures ? structuredClone(data) : data), recentWrites: [] },
      b2c: { authorizationCodes: [], refreshTokens: [], mfaCodes: [] },
      fairUse: [],
      firewall: { violations: [], blocks: [] },
    });
    this.journal.clear();
  }

  /** The whole state as one document (POST /__admin/snapshot). Its records are live: serialise it at once. */
  snapshot(): StateDocument {
    return takeState(this);
  }

  /**
   * Replaces the whole state with a document (POST /__admin/restore), or
   * answers the problems that refuse it and changes nothing.
   */
  restore(value: unknown): string[] {
    // Records are kept in the reconstructed contracts' shape, also while G-REX's own documents are served (--contracts).
    this.checker ??= new StateChecker(this.contracts.reconstructed ?? this.contracts, new Set(this.tokens.tenants.map((tenant) => tenant.name)));
    const checked = this.checker.check(value);
    if (!checked.ok) return checked.problems;
    this.install(checked.document);
    return [];
  }

  /**
   * Keeps the state in a file from now on. `fresh`: the file holds nothing
   * yet (or something else): it is written whole first.
   */
  persist(store: StateStore, origin: StateOrigin, fresh: boolean, onFailure: (error: Error) => void): void {
    const durable = new DurableState(store, this, origin, onFailure);
    if (fresh) durable.writeAll(this.snapshot());
    this.durable = durable;
    this.registry.changes = durable.changes;
    this.b2c.changes = durable.changes;
    this.clock.onChange(() => durable.changes.clockMoved());
    this.registry.tick();
    durable.commit();
  }

  /** The state file's path, when the mock keeps one. */
  get stateFile(): string | undefined {
    return this.durable?.store.path;
  }

  /** Writes what is pending to the state file and closes it. */
  closeState(): void {
    this.durable?.close();
  }

  /**
   * Puts a whole state in place: the new registry and grants are built
   * aside, the state file (if any) is rewritten in one transaction, and only
   * then is anything swapped, so a failure leaves the state as it was.
   */
  private install(document: StateDocument): void {
    const registry = this.registryOf(document.registry, true);
    this.durable?.writeAll(document);
    registry.changes = this.durable?.changes;
    this.registry = registry;
    this.importLimitsAndGrants(document);
    // Runs what is due at the document's time on the new registry (tracked, committed before the answer).
    this.clock.set(Date.parse(document.clock));
  }

  private importLimitsAndGrants(document: StateDocument): void {
    this.b2c.importState(document.b2c);
    this.fairUse.importState(document.fairUse);
    this.firewall.importState(document.firewall);
  }

  private start(fixtures: RegistryData): number {
    return this.config.clockStart ?? Date.parse(fixtures.epoch);
  }

  /** A registry over state data (`owned`: it may take the objects, else it works on a copy), with the time rules installed. */
  private registryOf(data: Omit<RegistryData, 'epoch'> & { recentWrites?: [string, number][] }, owned: boolean): Registry {
    const registry = new Registry(data, this.clock, { owned });
    for (const [key, at] of data.recentWrites ?? []) registry.recentWrites.set(key, at);
    for (const install of installers) install(registry, (code) => this.codes.template(code));
    return registry;
  }

  private describe(route: Route, schemas: SchemaValidator, handler: Handler | undefined, source: OperationSource): RouteMeta {
    const { doc, operation } = source;
    const access = accessOf(this.contracts, route.contract, route.operation);
    const grants = access.grants.map((grant) => ({ roles: new Set(grant.roles), scope: grant.scope }));
    const listed = (status: string): string[] => {
      const response = operation.responses?.[status];
      if (!response) return [];
      const content = deref<JsonObject>(doc, response).content as Record<string, JsonObject> | undefined;
      const examples = (content?.['application/json']?.examples as Record<string, JsonObject> | undefined) ?? {};
      return Object.values(examples)
        .map((example) => (deref<JsonObject>(doc, example).value as JsonObject | undefined)?.responseCode)
        .filter((value): value is string => typeof value === 'string');
    };
    const successArea = ['200', '201'].flatMap(listed)[0]?.split('_')[0];
    const errors = listed('400');
    const pick = (suffix: string): string | undefined =>
      errors.find((code) => code.endsWith(suffix) && code.split('_')[0] === successArea) ?? errors.find((code) => code.endsWith(suffix));
    return {
      validator: new RequestValidator(route, schemas),
      handler,
      anonymous: access.anonymous,
      grants,
      // An operation only G-REX's document has, with no codes of its own: the gateway's, in the manual's envelope.
      modelCode: pick('_002') ?? (route.contract.pulled ? 'REQUEST_002' : undefined),
      contentTypeCode: pick('_004') ?? (route.contract.pulled ? 'REQUEST_004' : undefined),
      topCode: pick('_014'),
      items: collectionItems(doc, operation),
      schemas,
    };
  }

  /** The node:http request listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    const latency = this.config.writeLatencyMs ?? 0;
    const arrival = latency > 0 && isWrite(req) ? { at: this.clock.iso(), perf: performance.now() } : undefined;
    // Most requests (GETs) announce no body: answer at once, without waiting a turn for the stream's end.
    if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
      if (arrival) setTimeout(() => this.guarded(req, res, null, false, arrival), latency);
      else this.guarded(req, res, null, false);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.config.maxBodyBytes && (size > ADMIN_MAX_BODY_BYTES || !(req.url ?? '').startsWith('/__admin'))) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      const body = chunks.length === 0 ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      if (arrival) setTimeout(() => this.guarded(req, res, body, tooLarge, arrival), latency);
      else this.guarded(req, res, body, tooLarge);
    });
    req.on('error', () => res.destroy());
  };

  private guarded(req: IncomingMessage, res: ServerResponse, body: Buffer | null, tooLarge: boolean, arrival?: Arrival): void {
    try {
      this.handle(req, res, body, tooLarge, arrival);
    } catch (error) {
      process.stderr.write(`grex-harness: unexpected error on ${req.method} ${req.url}: ${(error as Error).stack}\n`);
      if (!res.headersSent) this.send(res, req, this.codes.outcome('SYSTEM_001', { correlationId: 'internal' }));
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: Buffer | null, tooLarge: boolean, arrival?: Arrival): void {
    if (this.cors && req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      this.preflight(req, res);
      return;
    }
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    const pathname = mark < 0 ? url : url.slice(0, mark);
    if (pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      const page = registryUiPage(this.b2c, new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1)).get('tenant') ?? 'gcrfdemo');
      this.answer(req, res, page ? { status: 200, body: page, contentType: 'text/html; charset=utf-8' } : this.routeNotFound(pathname));
      return;
    }
    if (pathname.startsWith('/__admin')) {
      const outcome = tooLarge
        ? adminBodyTooLarge(pathname, ADMIN_MAX_BODY_BYTES)
        : handleAdmin(this, req.method ?? 'GET', pathname, new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1)), body, originOf(req));
      this.answer(req, res, outcome);
      return;
    }
    if (this.docs(req, res, pathname)) return;

    const started = arrival?.perf ?? performance.now();
    const text = body?.toString('utf8');
    const decisions: Decision[] = [];
    const exchange: Exchange = {
      id: this.journal.nextId(),
      startedAt: arrival?.at ?? this.clock.iso(),
      durationMs: 0,
      client: req.socket.remoteAddress ?? '',
      request: { method: req.method ?? 'GET', url, headers: {}, body: this.journal.cut(text) },
      response: { status: 0, headers: {} },
      decisions,
    };
    let outcome = this.pipeline(req, pathname, mark < 0 ? '' : url.slice(mark + 1), body, text, tooLarge, exchange);
    // Most clients ask for JSON: only an Accept that names XML is negotiated.
    const accept = req.headers.accept;
    if (this.xml && accept !== undefined && /xml/i.test(accept)) outcome = this.negotiated(req.method ?? 'GET', pathname, accept, outcome);
    // After negotiation: a fault bends the answer as it would be sent.
    if (this.faults.active) outcome = this.faulty(outcome, exchange);
    this.answer(req, res, outcome, exchange, started);
  }

  /** Sends an answer, or, with a state file, holds it until what it reports is committed. */
  private answer(req: IncomingMessage, res: ServerResponse, outcome: Outcome, exchange?: Exchange, started = 0): void {
    if (this.durable?.holding) this.durable.hold(req, res, outcome, exchange, started);
    else this.finish(req, res, outcome, exchange, started);
  }

  /** Sends an answer and journals its exchange (G-REX and B2C requests; the admin API and pages are not journaled). */
  finish(req: IncomingMessage, res: ServerResponse, outcome: Outcome, exchange: Exchange | undefined, started: number): void {
    const sent = this.send(res, req, outcome);
    if (!exchange) return;
    exchange.durationMs = performance.now() - started;
    exchange.response = { status: outcome.status, headers: sent.headers, body: this.journal.cut(sent.text) };
    this.journal.record(exchange, req.rawHeaders);
  }

  private pipeline(req: IncomingMessage, pathname: string, search: string, body: Buffer | null, text: string | undefined, tooLarge: boolean, exchange: Exchange): Outcome {
    const decisions = exchange.decisions;
    const method = req.method ?? 'GET';
    this.registry.tick();
    const match = this.router.match(method, pathname);
    // The token is read once: fair use spends the account holder's budget, auth then checks the same identity.
    // (No closure for that: through tsx, which names every function it makes, one costs a request 1 to 2 µs, more than
    // the check; compiled, some 30 ns. README, "Choices"; npm run bench measures both.)
    let identity: ReturnType<MockApp['identify']> | undefined;
    // B2C is Microsoft's service: G-REX's gateway and fair-use policy stand in front of the six APIs only.
    const grex = match.kind !== 'found' || match.route.contract.grex.api !== 'b2c';
    if (grex && this.firewall.config.enabled) {
      const verdict = this.firewall.check({ client: exchange.client, method, headers: req.headers, search, body }, this.faults.active ? (rule) => this.faults.skips(rule) : undefined);
      if (verdict.blocked) {
        decisions.push({ stage: 'firewall', outcome: 'reject', code: verdict.rule, detail: verdict.detail });
        const headers: Record<string, string> = this.firewall.config.diagnostics ? { 'x-grex-firewall-rule': verdict.rule } : {};
        return { status: 403, body: this.firewallPage, contentType: 'text/html', headers, code: 'FIREWALL' };
      }
      decisions.push({ stage: 'firewall', outcome: 'pass' });
    }
    if (grex && this.fairUse.config.enabled) {
      const who = (identity = this.identify(req.headersDistinct.authorization, req.headers.host));
      const caller = typeof who === 'string' ? `ip:${exchange.client}` : who.organization.organizationId;
      const verdict = this.fairUse.take(caller);
      if (!verdict.allowed) {
        decisions.push({ stage: 'fairuse', outcome: 'reject', code: verdict.code, detail: caller });
        const seconds = String(verdict.retryAfterSeconds);
        const limit = verdict.limit;
        const params = { seconds, limit: limit?.requests ?? '', window: limit ? windowName(limit.windowSeconds) : '' };
        return { ...this.codes.outcome(verdict.code, params), headers: { 'retry-after': seconds } };
      }
      decisions.push({ stage: 'fairuse', outcome: 'pass', detail: caller });
    }
    if (match.kind === 'none') {
      decisions.push({ stage: 'route', outcome: 'reject', code: 'ROUTE_001' });
      return this.routeNotFound(pathname);
    }
    if (match.kind === 'method') {
      decisions.push({ stage: 'route', outcome: 'reject', code: 'ROUTE_005' });
      return this.codes.outcome('ROUTE_005', { method, allowed: match.allowed.join(', ') }, { allow: match.allowed.join(', ') });
    }
    const { route } = match;
    const meta = this.meta.get(route) as RouteMeta;
    exchange.operationId = route.operationId;
    decisions.push({ stage: 'route', outcome: 'pass', detail: route.operationId });

    if (tooLarge) {
      decisions.push({ stage: 'validate', outcome: 'reject', code: 'REQUEST_013' });
      return this.codes.outcome('REQUEST_013', { limit: this.config.maxBodyBytes });
    }

    let caller: Caller | null = null;
    if (!meta.anonymous) {
      const who = (identity ??= this.identify(req.headersDistinct.authorization, req.headers.host));
      if (typeof who === 'string') {
        decisions.push({ stage: 'auth', outcome: 'reject', code: 'AUTH_001', detail: who });
        return this.codes.outcome('AUTH_001', {}, { 'www-authenticate': `Bearer error="invalid_token", error_description=${quotedString(who)}` });
      }
      exchange.user = who.user.username;
      exchange.organization = who.organization.organizationId;
      let scope: Caller['scope'] | undefined = meta.grants.length ? undefined : 'organisation';
      for (const grant of meta.grants) {
        if (!holdsAny(who.roles, grant.roles)) continue;
        if (grant.scope === 'domain') scope = 'domain';
        else scope ??= 'organisation';
      }
      if (!scope) {
        decisions.push({ stage: 'auth', outcome: 'reject', code: 'AUTH_003', detail: `roles ${[...who.roles].join(', ')}` });
        return this.codes.outcome('AUTH_003');
      }
      caller = { user: who.user, organization: who.organization, roles: who.roles, scope };
      decisions.push({ stage: 'auth', outcome: 'pass', detail: `${who.user.username} (${scope})` });
    }

    // A body on an operation that takes none (DELETE) is still refused by type where the operation documents `_004`.
    if (!meta.validator.takesBody && meta.contentTypeCode && body?.length && !/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
      decisions.push({ stage: 'validate', outcome: 'reject', code: meta.contentTypeCode, detail: 'a body of another type than application/json' });
      return this.codes.outcome(meta.contentTypeCode);
    }
    const check = meta.validator.check(match.params, search ? new URLSearchParams(search) : NO_QUERY, req.headers, body, text);
    if (!check.ok) {
      const outcome = this.invalid(route, meta, check.kind, check.fields, check.broke);
      decisions.push({ stage: 'validate', outcome: 'reject', code: outcome.code, detail: check.details.join('; ') });
      return outcome;
    }
    decisions.push({ stage: 'validate', outcome: 'pass' });
    if (meta.binding) toContractNames(meta.binding, check.value.path, check.value.query, check.value.body);

    const context: RequestContext = {
      route,
      path: check.value.path,
      query: check.value.query,
      body: check.value.body,
      headers: req.headers,
      caller,
      registry: this.registry,
      clock: this.clock,
      b2c: this.b2c,
      origin: `${(req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'}://${req.headers.host ?? '127.0.0.1'}`,
      dataMediaTypes: this.xml?.mediaTypes ?? [],
    };
    let outcome: Outcome;
    try {
      outcome = meta.handler ? this.render(meta.handler(context), context, meta) : this.fromExample(route, context, meta);
      if (meta.binding) outcome = { ...outcome, body: toServedNames(meta.binding, outcome.status, outcome.body) };
      decisions.push({ stage: 'domain', outcome: outcome.status < 400 ? 'pass' : 'reject', code: outcome.code, detail: meta.handler ? undefined : 'answered from the contract example' });
    } catch (error) {
      const correlationId = this.registry.newId();
      process.stderr.write(`grex-harness: ${route.operationId} failed (correlation id ${correlationId}): ${(error as Error).stack}\n`);
      decisions.push({ stage: 'domain', outcome: 'error', code: 'SYSTEM_001', detail: (error as Error).message });
      return this.codes.outcome('SYSTEM_001', { correlationId });
    }
    if (this.config.selfCheck) {
      const problems = this.selfCheck(route, meta, outcome);
      if (problems.length) {
        this.selfCheckFailures++;
        const detail = `${route.operationId} answered ${outcome.status} against its contract: ${problems.join('; ')}`;
        process.stderr.write(`grex-harness SELF-CHECK FAILED: ${detail}\n`);
        decisions.push({ stage: 'response', outcome: 'error', detail });
        return { status: 500, body: { statusCode: 500, responseCode: 'SYSTEM_001', responseMessage: `Self-check failed: ${detail}` }, headers: { 'x-grex-self-check': 'failed' }, code: 'SYSTEM_001' };
      }
    }
    return outcome;
  }

  /** ROUTE_001, saying what would have matched: the API path without its trailing slash or with its base path, a page in another case. */
  private routeNotFound(pathname: string): Outcome {
    const lower = pathname.toLowerCase();
    const page = this.pages.find((candidate) => candidate.toLowerCase() === lower || candidate.toLowerCase() === `${lower}/`);
    const admin = lower.startsWith('/__admin') && !pathname.startsWith('/__admin') ? `/__admin${pathname.slice(8)}` : undefined;
    const meant = this.router.suggest(pathname) ?? page ?? admin;
    const hint = meant
      ? `Did you mean ${meant}?`
      : 'API paths are {BaseURI}/{AH|IB}/{apiname}/{Resource}, e.g. /managementapi/AH/managementapi/Accounts (the Public Reports API has no AH|IB); every API and its documentation is listed at /__docs/.';
    return this.codes.outcome('ROUTE_001', { path: pathname, hint });
  }

  /**
   * A JSON answer of the six APIs as XML when Accept prefers it (common.yaml
   * `x-grex-xml`), named after the answer's schema in the contract served.
   * After the self-check, which checked the same data as JSON.
   */
  private negotiated(method: string, pathname: string, accept: string, outcome: Outcome): Outcome {
    const xml = this.xml as XmlDeclaration;
    const { body } = outcome;
    if (body === undefined || body === null || typeof body !== 'object' || Buffer.isBuffer(body) || B2C_PATH.test(pathname)) return outcome;
    const chosen = preferredMediaType(accept, ['application/json', ...xml.mediaTypes]);
    if (!chosen || chosen === 'application/json') return outcome;
    const match = this.router.match(method, pathname);
    if (match.kind === 'found' && match.route.contract.grex.api === 'b2c') return outcome;
    let doc = this.contracts.common;
    let schema: unknown = 'responseCode' in body ? { $ref: '#/components/schemas/Envelope' } : undefined;
    const response = match.kind === 'found' ? match.route.operation.responses?.[String(outcome.status)] : undefined;
    if (match.kind === 'found' && response) {
      const documented = (deref<JsonObject>(match.route.contract.doc, response).content as Record<string, JsonObject> | undefined)?.['application/json']?.schema;
      if (documented) [doc, schema] = [match.route.contract.doc, documented];
    }
    let writer = this.xmlWriters.get(doc);
    if (!writer) this.xmlWriters.set(doc, (writer = new DataContractWriter(doc, xml.namespace)));
    return { ...outcome, body: writer.write(body, schema), contentType: `${chosen}; charset=utf-8` };
  }

  /**
   * Test-only faults bend the answer of the stage that decided it (the
   * journal's last decision), after the self-check: a fault plays a server
   * that breaks its contract, which is what suites and graders must catch.
   */
  private faulty(outcome: Outcome, exchange: Exchange): Outcome {
    const decided = exchange.decisions[exchange.decisions.length - 1];
    // A failed self-check is the mock's own error: nothing to bend.
    if (!decided || decided.stage === 'response') return outcome;
    const stage = decided.stage as Decided['stage'];
    const faulty = this.faults.apply({ stage, operationId: exchange.operationId, code: decided.code }, outcome, this.codes);
    if (faulty.applied.length) exchange.decisions.push({ stage: 'response', outcome: 'error', code: 'FAULT', detail: `test-only fault ${faulty.applied.join(', ')}` });
    return faulty.outcome;
  }

  /**
   * The caller behind the bearer token, or why there is none. On DEMO's or
   * PROD's host name (hosts mode) only that tenant's tokens count, as on
   * G-REX; any other host (127.0.0.1, localhost) takes both tenants'.
   */
  private identify(authorization: string[] | undefined, host: string | undefined): { user: Caller['user']; organization: Caller['organization']; roles: Set<string> } | string {
    const header = authorization?.[0];
    if (!header) return 'no Authorization header';
    // Node keeps the first of two Authorization headers and drops the other: a request that sends two is refused, not judged by one of them.
    if ((authorization as string[]).length > 1) return `${(authorization as string[]).length} Authorization headers; a request carries one`;
    const token = header.length > 7 && header.slice(0, 7).toLowerCase() === 'bearer ' ? header.slice(7).trim() : '';
    // A token with spaces inside is left to the signature check, which refuses it: no scan of every token here.
    if (!token) return 'the Authorization header is not "Bearer {token}"';
    const verification = this.tokens.verify(token, header);
    if (!verification.ok) return verification.reason;
    const hostTenant = host === undefined ? undefined : this.apiTenant(host);
    if (hostTenant !== undefined && hostTenant.name !== verification.tenant.name) {
      return `the token is from the B2C tenant ${verification.tenant.name}, and ${hostTenant.apiHost} takes tokens of ${hostTenant.name} only`;
    }
    const user = this.registry.users.get(verification.claims.oid);
    if (!user) return 'the user is not known to G-REX';
    if (user.status !== 'Active') return `the user is ${user.status.toLowerCase()}`;
    const organization = this.registry.organizations.get(user.organizationId);
    if (!organization || organization.status !== 'Active') return "the user's organisation is not active";
    return { user, organization, roles: rolesOf(user) };
  }

  /** The tenant whose API host a Host header names (with or without its port), if any. */
  private apiTenant(host: string): Tenant | undefined {
    const colon = host.lastIndexOf(':');
    const name = colon > 0 && !host.endsWith(']') ? host.slice(0, colon) : host;
    return this.tenantByApiHost.get(name) ?? this.tenantByApiHost.get(name.toLowerCase());
  }

  private invalid(route: Route, meta: RouteMeta, kind: 'content-type' | 'model', fields: string[], broke: Record<string, string[]>): Outcome {
    if (kind === 'content-type' && meta.contentTypeCode) return this.codes.outcome(meta.contentTypeCode);
    if (meta.topCode && fields.length === 1 && broke.$top?.includes('maximum')) return this.codes.outcome(meta.topCode);
    if (meta.modelCode) return this.codes.naming(meta.modelCode, fields);
    // B2C has no envelope: the token and metadata endpoints answer B2C's own forms (OAuth errors, its 404 page).
    const b2c = b2cTokenContractRefusal(route.operationId, fields, broke, this.clock.now());
    if (b2c) return b2c;
    return {
      status: 400,
      body: { error: 'invalid_request', error_description: `AADB2C90083: The request is missing required parameter: ${fields.join(', ')}.` },
      code: 'AADB2C90083',
    };
  }

  private render(reply: Reply, context: RequestContext, meta: RouteMeta): Outcome {
    switch (reply.kind) {
      case 'code':
        return this.codes.outcome(reply.code, reply.params);
      case 'invalid':
        return this.codes.naming(reply.code, reply.fields);
      case 'json':
        return { status: reply.status, body: reply.body, headers: reply.headers };
      case 'raw':
        return { status: reply.status, body: reply.body, contentType: reply.contentType, headers: reply.headers };
      case 'list':
        return this.page(reply.items, context, meta);
    }
  }

  /** `$filter`, `$orderby`, `$skip`, `$top` over a collection, for every collection GET alike. */
  private page(items: readonly object[], context: RequestContext, meta: RouteMeta): Outcome {
    const fields = meta.items?.fields ?? new Set<string>();
    // With G-REX's own document bound to a handler, a client filters and orders by G-REX's field names (the ones
    // `fields` lists), while the handler's rows carry the contract's: rows are judged as the client reads them,
    // and the page goes out as the handler's rows, renamed on the way out like every answer.
    const handlerRows = items as readonly Record<string, unknown>[];
    const seen = meta.binding ? (toServedNames(meta.binding, 200, handlerRows) as Record<string, unknown>[]) : handlerRows;
    const handlerRow = seen === handlerRows ? undefined : new Map(seen.map((row, index) => [row, handlerRows[index]]));
    let rows = seen;
    const filter = context.query.$filter;
    if (typeof filter === 'string') {
      const parsed = parseFilter(filter, fields, meta.items?.name);
      if (!parsed.ok) return this.queryProblem(meta, `$filter: ${parsed.problem}`);
      rows = rows.filter(parsed.value);
    }
    const orderBy = context.query.$orderby;
    if (typeof orderBy === 'string') {
      const parsed = parseOrderBy(orderBy, fields, meta.items?.name);
      if (!parsed.ok) return this.queryProblem(meta, `$orderby: ${parsed.problem}`);
      rows = [...rows].sort(parsed.value);
    }
    const skip = typeof context.query.$skip === 'number' ? context.query.$skip : 0;
    const top = typeof context.query.$top === 'number' ? context.query.$top : 100;
    const shown = rows.slice(skip, skip + top);
    return { status: 200, body: handlerRow ? shown.map((row) => handlerRow.get(row)) : shown };
  }

  /** `problem` names the parameter and why: `$filter: unknown field 'status' for EnergySource; fields: ...`. */
  private queryProblem(meta: RouteMeta, problem: string): Outcome {
    if (!meta.modelCode) return { status: 400, body: { error: 'invalid_request', error_description: problem } };
    return this.codes.naming(meta.modelCode, [problem]);
  }

  /**
   * Operations without a domain handler (those only G-REX's own document
   * has) answer their first success example; without one, a value built
   * from the JSON schema (its examples, defaults, first enum values).
   */
  private fromExample(route: Route, context: RequestContext, meta: RouteMeta): Outcome {
    const outcome = this.example(route);
    // A list is a collection like any other: $filter, $orderby, $skip and $top apply to it.
    return outcome.status === 200 && Array.isArray(outcome.body) && outcome.contentType === undefined ? this.page(outcome.body as object[], context, meta) : outcome;
  }

  private example(route: Route): Outcome {
    const doc = route.contract.doc;
    for (const [status, reference] of Object.entries(route.operation.responses ?? {})) {
      if (!/^2/.test(status)) continue;
      const response = deref<JsonObject>(doc, reference);
      const content = Object.entries((response.content as Record<string, JsonObject>) ?? {});
      for (const [mediaType, media] of content) {
        const examples = Object.values((media.examples as Record<string, JsonObject>) ?? {});
        const example = 'example' in media ? media.example : examples.length ? deref<JsonObject>(doc, examples[0]).value : undefined;
        if (example === undefined) continue;
        return typeof example === 'string' ? { status: Number(status), body: example, contentType: mediaType } : { status: Number(status), body: example };
      }
      const json = content.find(([mediaType]) => /^application\/json$/i.test(mediaType))?.[1];
      return json?.schema ? { status: Number(status), body: sampleOf(doc, json.schema) } : { status: Number(status) };
    }
    return { status: 204 };
  }

  private selfCheck(route: Route, meta: RouteMeta, outcome: Outcome): string[] {
    const response = route.operation.responses?.[String(outcome.status)] ?? route.operation.responses?.default;
    if (!response) return [`status ${outcome.status} is not documented`];
    const content = deref<JsonObject>(route.contract.doc, response).content as Record<string, JsonObject> | undefined;
    if (!content || outcome.body === undefined) return [];
    const mediaType = outcome.contentType?.split(';')[0] ?? 'application/json';
    const media = content[mediaType];
    if (!media) return [`${mediaType} is not documented for ${outcome.status}`];
    if (!media.schema || mediaType !== 'application/json') return [];
    return meta.schemas.validate(media.schema as object, outcome.body);
  }

  /**
   * A browser's preflight: answered at once, before the firewall, fair use
   * and authentication, and not journaled. It is the browser's own request,
   * not the client's: it carries no token and none of the client's headers,
   * so the gateway's rules would refuse it for what the real request has.
   */
  private preflight(req: IncomingMessage, res: ServerResponse): void {
    const asked = req.headers['access-control-request-headers'];
    const headers = typeof asked === 'string' && HEADER_LIST.test(asked) ? asked : DEFAULT_ALLOWED_HEADERS;
    res.writeHead(204, { ...PREFLIGHT_HEADERS, 'access-control-allow-headers': headers }).end();
  }

  /** Writes an outcome; returns what was sent, for the journal. */
  send(res: ServerResponse, req: IncomingMessage, outcome: Outcome): { headers: Record<string, string | number>; text?: string } {
    const body = outcome.body;
    // A string goes out in one write with the headers; a Buffer would cost a second one (writev).
    const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const headers: Record<string, string | number> = this.cors ? { ...CORS_HEADERS, ...outcome.headers } : { ...outcome.headers };
    if (payload !== undefined) headers['content-type'] = outcome.contentType ?? JSON_TYPE;
    headers['content-length'] = payload === undefined ? 0 : typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    res.writeHead(outcome.status, headers);
    res.end(req.method === 'HEAD' ? undefined : payload);
    return { headers, text: typeof payload === 'string' ? payload : undefined };
  }
}

