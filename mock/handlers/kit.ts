import type { B2CService } from '../b2c/service.js';
import type { Clock } from '../clock.js';
import type { Organization, User } from '../domain/model.js';
import { isRefusal, type Refusal, type Registry, type Writer } from '../domain/registry.js';
import type { Route } from '../router.js';

export interface Caller {
  user: User;
  organization: Organization;
  roles: ReadonlySet<string>;
  /** The widest scope the caller's roles are granted on this operation (x-permissions). */
  scope: 'domain' | 'organisation';
}

export interface RequestContext {
  route: Route;
  /** Path and query parameters, converted to their schema types and validated. */
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  /** The validated body (JSON or form). */
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  /** Null on anonymous operations (Public Reports, B2C). */
  caller: Caller | null;
  registry: Registry;
  clock: Clock;
  /** B2C's clients and grants (authorize, token). */
  b2c: B2CService;
  /** `http(s)://host[:port]` as the client reached the mock (hosts mode is HTTPS). */
  origin: string;
  /** Media types besides JSON the pipeline renders a JSON answer in, as Accept asks (XML, common.yaml `x-grex-xml`). */
  dataMediaTypes: readonly string[];
}

/** What a handler answers; the pipeline turns it into HTTP. */
export type Reply =
  /** The manual's envelope for a code of the contracts (its HTTP status is the code's). */
  | { kind: 'code'; code: string; params?: Record<string, string | number> }
  /** A `_002` code naming the fields, whatever its message calls them (`{model fields}`, `{parameters}`). */
  | { kind: 'invalid'; code: string; fields: string[] }
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  /** A collection: the pipeline applies $filter, $orderby, $skip and $top. */
  | { kind: 'list'; items: readonly object[] }
  | { kind: 'raw'; status: number; body: string | Buffer; contentType: string; headers?: Record<string, string> };

export type Handler = (context: RequestContext) => Reply;

export const code = (name: string, params?: Record<string, string | number>): Reply => ({ kind: 'code', code: name, params });
export const json = (body: unknown, status = 200): Reply => ({ kind: 'json', status, body });
export const list = (items: readonly object[]): Reply => ({ kind: 'list', items });

/** The caller, on an operation that requires one (the pipeline guarantees it). */
export function callerOf(context: RequestContext): Caller {
  if (!context.caller) throw new Error(`${context.route.operationId} needs a caller but is anonymous`);
  return context.caller;
}

/** The organisation that writes. */
export const writerOf = (context: RequestContext): Writer => ({ organizationId: callerOf(context).organization.organizationId });

/** The caller's organisation on an organisation-scoped grant; undefined (the whole domain) on a domain grant. */
export function organizationOf(context: RequestContext): string | undefined {
  const caller = callerOf(context);
  return caller.scope === 'domain' ? undefined : caller.organization.organizationId;
}

/** A rule's result: the refusal as it is, or what `success` answers for the record. */
export const answer = <T>(result: T | Refusal, success: (record: T) => Reply): Reply => (isRefusal(result) ? result : success(result));

/** A read of one record: the record as JSON, or the refusal that stands for it. */
export const found = (result: object): Reply => answer(result, json);

/** Model checks the schema cannot express answer the operation's `{AREA}_002`, naming the fields, like the pipeline's own. */
export const invalid = (area: string, fields: string[]): Reply | null => (fields.length ? { kind: 'invalid', code: `${area}_002`, fields } : null);
