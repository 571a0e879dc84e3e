import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { toHar, type Exchange } from '../mock/journal.js';
import { runCliAsync } from './support/cli.js';

/**
 * `grex-harness grade` on handcrafted journals: each rule on both sides of
 * its edge (exactly 100 requests in a minute pass, 101 fail), bad input
 * (malformed line, missing file, wrong flags) with its exit code.
 */
const work = mkdtempSync(join(tmpdir(), 'grex-grade-'));
after(() => rmSync(work, { recursive: true, force: true }));

const T0 = Date.parse('2026-11-02T08:00:00.000Z');
const MGMT = '/managementapi/AH/managementapi';
const TRANSFERS = '/transactionapi/AH/transactionapi/Transfers';
const B2C = '/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/oauth2/v2.0';

const jwt = (payload: object, signature = 'sig') => `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
const TOKEN = jwt({ oid: 'user-a', exp: (T0 + 3_600_000) / 1000 });

interface Options {
  method?: string;
  url?: string;
  status?: number;
  durationMs?: number;
  body?: string;
  headers?: Record<string, string | undefined>;
  responseHeaders?: Record<string, string>;
  organization?: string | null;
  client?: string;
  decisions?: Exchange['decisions'];
}

let id = 0;
/** One exchange `at` ms after T0: by default a well-formed paged GET of accounts by organisation org-a. */
function exchange(at: number, options: Options = {}): Exchange {
  const body = options.body;
  const headers: Record<string, string | undefined> = {
    host: '127.0.0.1:4600',
    accept: 'application/json',
    'user-agent': 'test-client/1.0',
    authorization: `Bearer ${TOKEN}`,
    ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
    ...options.headers,
  };
  for (const name of Object.keys(headers)) if (headers[name] === undefined) delete headers[name];
  return {
    id: ++id,
    startedAt: new Date(T0 + at).toISOString(),
    durationMs: options.durationMs ?? 1,
    client: options.client ?? '127.0.0.1',
    request: { method: options.method ?? 'GET', url: options.url ?? `${MGMT}/Accounts?$top=10&$skip=0`, headers, ...(body !== undefined ? { body } : {}) },
    response: { status: options.status ?? 200, headers: { 'content-type': 'application/json', ...options.responseHeaders } },
    ...(options.organization === null ? {} : { organization: options.organization ?? 'org-a' }),
    decisions: options.decisions ?? [],
  };
}

const page = (skip: number) => `${MGMT}/Accounts?$top=1&$skip=${skip}`;
const tokenRequest = (at: number, form: Record<string, string>, client = '127.0.0.1') =>
  exchange(at, { method: 'POST', url: `${B2C}/token`, body: new URLSearchParams(form).toString(), headers: { authorization: undefined, 'content-type': 'application/x-www-form-urlencoded' }, organization: null, client });
const refresh = (at: number, client?: string) => tokenRequest(at, { grant_type: 'refresh_token', client_id: 'app', refresh_token: 'r' }, client);
const transfer = (certificate: string) => {
  const id = certificate.padStart(20, '1');
  return JSON.stringify({ fromAccountNumber: '643003000000000005', toAccountNumber: '643003000000000002', bundles: [{ startCertificateId: id, endCertificateId: id }] });
};
const firewalled = (at: number, url: string, headers: Options['headers'] = {}) =>
  exchange(at, { url, headers, status: 403, responseHeaders: { 'content-type': 'text/html' }, organization: null, decisions: [{ stage: 'firewall', outcome: 'reject', code: 'url-scheme' }] });
/** A page read without User-Agent, refused by the firewall: naming its rule as the mock does, or not (the proxy, a HAR). */
const withoutUserAgent = (at: number, named: { code?: string } = {}) =>
  exchange(at, {
    url: page(0),
    status: 403,
    headers: { 'user-agent': undefined },
    responseHeaders: { 'content-type': 'text/html' },
    organization: null,
    decisions: named.code ? [{ stage: 'firewall', outcome: 'reject', code: named.code }] : [],
  });

interface Graded {
  status: number | null;
  stdout: string;
  stderr: string;
  failed: string[];
  report: any;
}

async function grade(name: string, content: string, extra: string[] = []): Promise<Graded> {
  const file = join(work, `${name}.ndjson`);
  writeFileSync(file, content);
  const out = join(work, name);
  const { status, stdout, stderr } = await runCliAsync(['grade', file, '--out', out, '--format', 'json', ...extra]);
  let report: any;
  try {
    report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  } catch {
    report = undefined;
  }
  const failed = report ? (report.rules as { rule: string; passed: boolean }[]).filter((rule) => !rule.passed).map((rule) => rule.rule).sort() : [];
  return { status, stdout, stderr, failed, report };
}

const ndjson = (exchanges: Exchange[]) => `${exchanges.map((entry) => JSON.stringify(entry)).join('\n')}\n`;

/** Every rule just inside its limit, in one journal. */
function passingEdges(): Exchange[] {
  const out: Exchange[] = [refresh(0)];
  // 100 requests in [0, 59.999 s], the 101st exactly a minute after the first: the first has left the window.
  for (let i = 0; i < 100; i++) out.push(exchange(1000 + i * 600, { url: page(i) }));
  out.push(exchange(1000 + 60_000, { url: page(100) }));
  // A 429 asking for 5 s, honoured to the millisecond.
  out.push(exchange(70_000, { url: page(101), status: 429, responseHeaders: { 'retry-after': '5' } }));
  out.push(exchange(75_000, { url: page(101) }));
  // Writes one after the other; a write refused with 401 (its token expired) retried once after one refresh.
  const expired = `Bearer ${jwt({ oid: 'user-a', exp: (T0 + 1000) / 1000 }, 'old')}`;
  out.push(exchange(80_000, { method: 'POST', url: TRANSFERS, body: transfer('1'), status: 201, durationMs: 10 }));
  out.push(exchange(80_010, { method: 'POST', url: TRANSFERS, body: transfer('2'), status: 401, durationMs: 1, organization: null, headers: { authorization: expired } }));
  out.push(refresh(80_020));
  out.push(exchange(80_030, { method: 'POST', url: TRANSFERS, body: transfer('2'), status: 201 }));
  // A firewall refusal, then a corrected request.
  out.push(firewalled(81_000, `${MGMT}/Accounts?$top=1&$skip=0&$filter=name%20eq%20'https%3A%2F%2Fx'`));
  out.push(exchange(81_100, { url: `${MGMT}/Accounts?$top=1&$skip=0&$filter=name%20eq%20'x'` }));
  // PKCE S256 sign-in; five token requests in ten minutes in all.
  out.push(exchange(82_000, { url: `${B2C}/authorize?client_id=app&response_type=code&code_challenge=abc&code_challenge_method=S256`, headers: { authorization: undefined }, organization: null }));
  out.push(tokenRequest(82_100, { grant_type: 'authorization_code', client_id: 'app', code: 'c', code_verifier: 'v' }));
  out.push(refresh(83_000), refresh(84_000));
  // The same page three times in ten minutes.
  for (const at of [90_000, 91_000, 92_000]) out.push(exchange(at, { url: `${MGMT}/Accounts?$top=50&$skip=0` }));
  return out;
}

const failing: [string, string[], () => Exchange[]][] = [
  ['a request without User-Agent', ['required-headers'], () => [exchange(0), exchange(10, { headers: { 'user-agent': undefined } })]],
  ['a body without Content-Length', ['required-headers'], () => [exchange(0, { method: 'POST', url: TRANSFERS, body: transfer('1'), status: 201, headers: { 'content-length': undefined } })]],
  ['a collection read without $skip', ['paging'], () => [exchange(0, { url: `${MGMT}/Accounts?$top=10` })]],
  ['the same page four times in ten minutes', ['full-dataset-polling'], () => [0, 1000, 2000, 3000].map((at) => exchange(at, { url: `${MGMT}/Accounts?$top=50&$skip=0` }))],
  ['101 requests within a minute', ['rate-per-minute'], () => Array.from({ length: 101 }, (_, i) => exchange(i * 599, { url: page(i) }))],
  ['501 requests within an hour, under 100 a minute', ['rate-per-hour'], () => Array.from({ length: 501 }, (_, i) => exchange(i * 7100, { url: page(i) }))],
  [
    'a request 1 ms before Retry-After',
    ['retry-after'],
    () => [exchange(0, { url: page(0), status: 429, responseHeaders: { 'retry-after': '5' } }), exchange(4998, { url: page(0) })],
  ],
  [
    'a write sent before the previous one was answered',
    ['write-confirmation'],
    () => [exchange(0, { method: 'POST', url: TRANSFERS, body: transfer('1'), status: 201, durationMs: 50 }), exchange(10, { method: 'POST', url: TRANSFERS, body: transfer('2'), status: 201, durationMs: 50 })],
  ],
  [
    'the same transfer twice',
    ['duplicate-write'],
    () => [exchange(0, { method: 'POST', url: TRANSFERS, body: transfer('1'), status: 201 }), exchange(1000, { method: 'POST', url: TRANSFERS, body: transfer('1'), status: 409 })],
  ],
  ['a request resent after the firewall refused it', ['firewall-resend'], () => [firewalled(0, `${MGMT}/Accounts?$top=1&$skip=0&x=https://a`), firewalled(1000, `${MGMT}/Accounts?$top=1&$skip=0&x=https://a`)]],
  [
    'plain PKCE, the implicit flow and ROPC',
    ['pkce-s256'],
    () => [
      exchange(0, { url: `${B2C}/authorize?response_type=code&code_challenge=abc&code_challenge_method=plain`, headers: { authorization: undefined }, organization: null }),
      exchange(10, { url: `${B2C}/authorize?response_type=id_token%20token`, headers: { authorization: undefined }, organization: null }),
      tokenRequest(20, { grant_type: 'password', username: 'u', password: 'p', client_id: 'app' }),
    ],
  ],
  ['six token requests in ten minutes', ['sign-in-loop'], () => [0, 1, 2, 3, 4, 5].map((i) => refresh(i * 60_000))],
  [
    'an expired token sent twice',
    ['expired-token-reuse'],
    () => {
      const expired = jwt({ oid: 'user-a', exp: (T0 + 1000) / 1000 }, 'old');
      return [exchange(2000, { url: page(0), status: 401, headers: { authorization: `Bearer ${expired}` }, organization: null }), exchange(3000, { url: page(1), status: 401, headers: { authorization: `Bearer ${expired}` }, organization: null })];
    },
  ],
  [
    'two refreshes for one 401',
    ['unauthorized-retry'],
    () => [exchange(0, { status: 401, organization: null }), refresh(10), refresh(20), exchange(30, { headers: { authorization: `Bearer ${jwt({ oid: 'user-a', exp: (T0 + 7_200_000) / 1000 }, 'new')}` } })],
  ],
  [
    'a request retried after its retry was refused too',
    ['unauthorized-retry'],
    () => [1, 2, 3].map((i) => exchange(i * 10, { status: 401, organization: null, headers: { authorization: `Bearer ${jwt({ oid: 'user-a', exp: (T0 + 7_200_000) / 1000 }, `t${i}`)}` } })),
  ],
  ['a transfer without bundles', ['request-contract'], () => [exchange(0, { method: 'POST', url: TRANSFERS, body: JSON.stringify({ fromAccountNumber: '643003000000000005' }), status: 400 })]],
  // The note after Figure 31: a reattempt "with problematic data removed" is what the manual asks, not a resend.
  ['a request refused for its missing User-Agent, then sent with one', ['required-headers'], () => [withoutUserAgent(0, { code: 'header-user-agent' }), exchange(1000, { url: page(0) })]],
  ['the same, where the journal does not name the rule (proxied, HAR)', ['required-headers'], () => [withoutUserAgent(0), exchange(1000, { url: page(0) })]],
  ['a request refused for its missing User-Agent, resent still without one', ['firewall-resend', 'required-headers'], () => [withoutUserAgent(0, { code: 'header-user-agent' }), withoutUserAgent(1000, { code: 'header-user-agent' })]],
  [
    'refused input resent with only another User-Agent',
    ['firewall-resend'],
    () => [firewalled(0, `${MGMT}/Accounts?$top=1&$skip=0&x=https://a`), firewalled(1000, `${MGMT}/Accounts?$top=1&$skip=0&x=https://a`, { 'user-agent': 'another/2.0' })],
  ],
];

describe('grade: each rule on both sides of its edge', () => {
  const runs = Promise.all([grade('passing-edges', ndjson(passingEdges())), ...failing.map(([, , build], i) => grade(`failing-${i}`, ndjson(build())))]);

  it('passes a journal where every rule is exactly at its limit (exit 0)', async () => {
    const [graded] = await runs;
    assert.deepEqual(graded.failed, [], graded.stdout);
    assert.equal(graded.status, 0);
    assert.match(graded.stdout, /G-REX client grade: PASSED/);
  });

  for (const [index, [what, rules]] of failing.entries()) {
    it(`fails ${rules.join(', ')} on ${what}`, async () => {
      const graded = (await runs)[index + 1];
      assert.deepEqual(graded.failed, rules, graded.stdout + graded.stderr);
      const rule = graded.report.rules.find((candidate: { rule: string }) => candidate.rule === rules[0]);
      assert.ok(rule.evidence[0].line > 0 && rule.evidence[0].reason, JSON.stringify(rule.evidence));
      assert.equal(graded.status, rule.severity === 'error' ? 1 : 0);
    });
  }
});

describe('grade: HAR', () => {
  it('grades a HAR file (the journal as GET /__admin/journal?format=har exports it) like its NDJSON', async () => {
    const exchanges = [exchange(0), exchange(10, { url: `${MGMT}/Accounts?$top=10` })];
    const graded = await grade('har', JSON.stringify(toHar(exchanges, 'http://127.0.0.1:4600')));
    assert.deepEqual(graded.failed, ['paging'], graded.stdout + graded.stderr);
    assert.equal(graded.report.exchanges, 2);
    assert.equal(graded.status, 1);
  });
});

describe('grade: bad input', () => {
  it('names the malformed line and exits 2', async () => {
    const graded = await grade('malformed', `${JSON.stringify(exchange(0))}\n{"id": 2, "startedAt": \n`);
    assert.equal(graded.status, 2);
    assert.match(graded.stderr, /^grex-harness grade: .*malformed\.ndjson line 2: not JSON \(/);
    assert.equal(graded.stderr.trim().split('\n').length, 1, graded.stderr);
  });

  it('refuses a line that is JSON but not an exchange', async () => {
    const graded = await grade('not-exchange', `${JSON.stringify(exchange(0))}\n{"hello": "world"}\n`);
    assert.equal(graded.status, 2);
    assert.match(graded.stderr, /line 2: not a journal exchange \(no startedAt\)/);
  });

  it('reports a missing file, a missing argument and an unknown format with exit 2 and one line', async () => {
    const results = await Promise.all([
      runCliAsync(['grade', join(work, 'nowhere.ndjson')]),
      grade('formats', ndjson([exchange(0)]), ['--format', 'pdf']),
    ]);
    assert.equal(results[0].status, 2);
    assert.match(results[0].stderr, /^grex-harness grade: .*nowhere\.ndjson: no such file\n$/);
    assert.equal(results[1].status, 2);
    assert.match(results[1].stderr, /--format must be "all" or a comma-separated list of text, json, junit, allure, html, got "pdf"/);
  });
});

describe("grade: the tokens' clock is not the journal's", () => {
  // The proxy journals on its machine's clock; a token carries its issuer's (B2C's, or a stand-in mock's, which starts at its fixtures' epoch).
  const DAY = 86_400_000;
  const issued = (at: number, aheadMs: number) => {
    const iat = Math.floor((T0 + at + aheadMs) / 1000);
    return jwt({ oid: 'user-a', iat, nbf: iat, exp: iat + 3600 }, `t${at}`);
  };
  const use = (at: number, token: string) => exchange(at, { url: page(at), headers: { authorization: `Bearer ${token}` } });

  it('passes tokens refreshed in time whose issuer runs 30 days behind the journal (a mock on its default clock behind the proxy)', async () => {
    const first = issued(0, -30 * DAY);
    const second = issued(59 * 60_000, -30 * DAY);
    const graded = await grade('clock-behind', ndjson([use(0, first), use(10 * 60_000, first), use(50 * 60_000, first), refresh(59 * 60_000), use(59 * 60_000 + 100, second), use(100 * 60_000, second)]));
    assert.deepEqual(graded.failed, [], graded.stdout);
    assert.equal(graded.status, 0);
  });

  it('fails a token used past its lifetime whose issuer runs a year ahead of the journal (a mock started with --clock 2030-...)', async () => {
    const token = issued(0, 365 * DAY);
    const graded = await grade('clock-ahead', ndjson([use(0, token), use(61 * 60_000, token), use(62 * 60_000, token)]));
    assert.deepEqual(graded.failed, ['expired-token-reuse'], graded.stdout);
    const rule = graded.report.rules.find((candidate: { rule: string }) => candidate.rule === 'expired-token-reuse');
    assert.equal(rule.violations, 1);
    assert.match(rule.evidence[0].reason, /had expired at line 2$/);
  });
});

describe('grade: a journal without API traffic', () => {
  it('does not pass an empty journal, nor one with sign-in traffic only: exit 4, and every report says why', async () => {
    const all = ['--format', 'all'];
    const [empty, signInOnly] = await Promise.all([grade('no-traffic', '', all), grade('sign-in-only', ndjson([refresh(0)]), all)]);
    for (const graded of [empty, signInOnly]) {
      assert.equal(graded.status, 4, graded.stdout + graded.stderr);
      assert.match(graded.stdout, /^G-REX client grade: FAILED: no request reached the six G-REX APIs/);
      assert.equal(graded.report.passed, false);
      assert.equal(graded.report.apiRequests, 0);
      assert.match(graded.report.reason, /no request reached the six G-REX APIs/);
    }
    const out = join(work, 'no-traffic');
    const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
    assert.match(junit, /<testcase classname="grex-harness.grade.error" name="api-traffic: [^"]+">\n\s+<failure message="no request reached the six G-REX APIs[^"]*" type="api-traffic">/);
    assert.match(junit, /<testsuites name="grex-harness client grade" tests="15" failures="1">/);
    const allure = readdirSync(join(out, 'allure-results'))
      .filter((file) => file.endsWith('-result.json'))
      .map((file) => JSON.parse(readFileSync(join(out, 'allure-results', file), 'utf8')) as { name: string; status: string; statusDetails: { message?: string } });
    const traffic = allure.find((result) => result.name.startsWith('api-traffic'));
    assert.equal(traffic?.status, 'failed');
    assert.match(traffic?.statusDetails.message ?? '', /no request reached the six G-REX APIs/);
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /<h1>G-REX client grade: <span class="failed">failed<\/span><\/h1>\n<p class="reason">No request reached the six G-REX APIs/);
    assert.match(readFileSync(join(out, 'summary.txt'), 'utf8'), /^G-REX client grade: FAILED: no request reached/);
  });

  it('does not pass a client whose every API request was answered 401 (a token of another tenant, or none): exit 4; one request past authentication passes', async () => {
    const refused = (at: number) => exchange(at, { status: 401, organization: null, responseHeaders: { 'www-authenticate': 'Bearer error="invalid_token"' } });
    const [unauthenticated, signedIn] = await Promise.all([
      grade('all-401', ndjson([refresh(0), refused(1000)])),
      grade('one-past-401', ndjson([refresh(0), refused(1000), refresh(2000), exchange(3000, { headers: { authorization: `Bearer ${jwt({ oid: 'user-a', exp: (T0 + 7_200_000) / 1000 }, 'new')}` } })])),
    ]);
    assert.equal(unauthenticated.status, 4, unauthenticated.stdout + unauthenticated.stderr);
    assert.deepEqual(unauthenticated.failed, []);
    assert.match(unauthenticated.stdout, /^G-REX client grade: FAILED: every request to the six G-REX APIs \(1\) was answered 401/);
    assert.equal(unauthenticated.report.passed, false);
    assert.deepEqual([unauthenticated.report.apiRequests, unauthenticated.report.authenticatedRequests], [1, 0]);
    assert.equal(signedIn.status, 0, signedIn.stdout + signedIn.stderr);
    assert.equal(signedIn.report.passed, true);
    assert.equal(signedIn.report.reason, undefined);
    assert.deepEqual([signedIn.report.apiRequests, signedIn.report.authenticatedRequests], [2, 1]);
  });
});
