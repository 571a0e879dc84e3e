import type { Clock } from '../clock.js';
import type { Organization, User } from '../domain/model.js';
import type { Registry } from '../domain/registry.js';
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
}

/** What a handler answers; the pipeline turns it into HTTP. */
export type Reply =
  /** The manual's envelope for a code of the contracts (its HTTP status is the code's). */
  | { kind: 'code'; code: string; params?: Record<string, string | number> }
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
