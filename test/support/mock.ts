import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MockApp } from '../../mock/app.js';
import { DEFAULT_FAIR_USE } from '../../mock/fairuse.js';
import { startMock, type RunningMock } from '../../mock/server.js';
import { ROOT } from './cli.js';

/** Where every test mock spills its journal, for the contract-coverage check that runs after the tests. */
export const COVERAGE_DIR = join(ROOT, 'reports', 'coverage');

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

/** A fetch response read whole: its text, and its JSON when it is JSON. */
export async function replyOf(response: Response): Promise<Reply> {
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export interface RequestOptions {
  token?: string;
  /** A JSON value (sent as application/json), or a string sent as it is. */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

/** HTTP calls to a mock at some address, as a client would make them. */
export interface MockClient {
  /** An access token for a fixture user, from POST /__admin/token (memoised while valid on the mock's clock, when it is known). */
  token(username: string): Promise<string>;
  request(method: string, path: string, options?: RequestOptions): Promise<Reply>;
  /** A request as a fixture user (or, with `null`, without a token). */
  as(username: string | null, method: string, path: string, options?: Omit<RequestOptions, 'token'>): Promise<Reply>;
  /** A 200 read as a fixture user (or anonymously), checked against the contract by the mock; its JSON. */
  read(username: string | null, path: string): Promise<any>;
  /** Every item of a collection, page by page with $top and $skip, as the fair-use policy asks. */
  readAll(username: string | null, path: string): Promise<any[]>;
  admin(method: string, path: string, body?: unknown): Promise<Reply>;
}

export interface TestMock extends MockClient {
  url: string;
  app: MockApp;
  close(): Promise<void>;
}

/**
 * A client of the mock at `url`. `clockNow` reads the mock's clock (an
 * in-process mock): tokens are then reused while valid; without it every
 * token is new (a mock in another process).
 */
export function mockClient(url: string, clockNow?: () => number): MockClient {
  const tokens = new Map<string, { token: string; issuedAt: number; expiresOn: number }>();
  const request = async (method: string, path: string, options: RequestOptions = {}): Promise<Reply> => {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] = options.contentType ?? 'application/json';
    } else if (options.contentType) headers['content-type'] = options.contentType;
    return replyOf(await fetch(`${url}${path}`, { method, headers, body }));
  };
  const token = async (username: string): Promise<string> => {
    const known = tokens.get(username);
    // A token lives on the mock's clock, which tests move (and reset): a new one unless the clock is well inside its life.
    const now = clockNow?.();
    if (known && now !== undefined && known.issuedAt * 1000 <= now && known.expiresOn * 1000 > now + 60_000) return known.token;
    const reply = await request('POST', '/__admin/token', { body: { user: username } });
    if (reply.status !== 200) throw new Error(`no token for ${username}: ${reply.text}`);
    const { access_token: issued, expires_on: expiresOn, expires_in: lifetime } = reply.json as { access_token: string; expires_on: number; expires_in: number };
    tokens.set(username, { token: issued, issuedAt: expiresOn - lifetime, expiresOn });
    return issued;
  };
  const as = async (username: string | null, method: string, path: string, options: Omit<RequestOptions, 'token'> = {}): Promise<Reply> =>
    request(method, path, { ...options, token: username === null ? undefined : await token(username) });
  const read = async (username: string | null, path: string): Promise<any> => {
    const reply = await as(username, 'GET', path);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.headers.get('x-grex-self-check'), null);
    return reply.json;
  };
  return {
    request,
    as,
    read,
    async readAll(username, path) {
      const items: any[] = [];
      for (let skip = 0; ; skip += 500) {
        const page = await read(username, `${path}${path.includes('?') ? '&' : '?'}$top=500&$skip=${skip}`);
        items.push(...page);
        if (page.length < 500) return items;
      }
    },
    admin: (method, path, body) => request(method, path, body === undefined ? {} : { body }),
    token,
  };
}

/**
 * A mock in this process, reached over HTTP like any client would, with
 * self-check on (a response that breaks its contract answers 500) and its
 * journal spilled to reports/coverage/<name>.ndjson.
 */
export async function startTestMock(name: string): Promise<TestMock> {
  mkdirSync(COVERAGE_DIR, { recursive: true });
  const spill = join(COVERAGE_DIR, `${name}.ndjson`);
  rmSync(spill, { force: true });
  // Fair use off: a test sends more than 100 requests a minute as one account holder; its own tests turn it on.
  const running: RunningMock = await startMock({ port: 0, host: '127.0.0.1', selfCheck: true, journalSpillFile: spill, fairUse: { ...DEFAULT_FAIR_USE, enabled: false } });
  return { ...mockClient(running.url, () => running.app.clock.now()), url: running.url, app: running.app, close: () => running.close() };
}

/** The manual's envelope with this status and code, and an answer the contract allows (no self-check failure). */
export function expectCode(reply: Reply, status: number, responseCode: string): void {
  assert.equal(reply.status, status, reply.text);
  assert.equal(reply.headers.get('x-grex-self-check'), null, reply.text);
  assert.equal(reply.json?.responseCode, responseCode, reply.text);
  assert.equal(reply.json.statusCode, status);
}
