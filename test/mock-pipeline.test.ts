import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deref } from '../contracts/lib/operations.js';
import type { JsonObject } from '../contracts/lib/types.js';
import type { Route } from '../mock/router.js';
import { startMock } from '../mock/server.js';
import { runCliAsync } from './support/cli.js';
import { assertHar12 } from './support/har.js';
import { startTestMock, type TestMock } from './support/mock.js';

let mock: TestMock;
before(async () => {
  mock = await startTestMock('mock-pipeline');
});
after(() => mock?.close());

const grexRoutes = (): Route[] => mock.app.router.routes.filter((route) => route.contract.grex.api !== 'b2c');
const secured = (route: Route): boolean => (route.operation['x-permissions'] ?? []).some((grant) => grant.scope !== 'public');
/** A request path for a route: every template parameter filled with a harmless value. */
const pathOf = (route: Route, value = '1'): string => route.template.replace(/\{[^}]+\}/g, value);
const grantedRoles = (route: Route): Set<string> => new Set((route.operation['x-permissions'] ?? []).flatMap((grant) => grant.roles));

/** An active user holding one of the operation's roles (or none of them). */
function userFor(route: Route, allowed: boolean): string | undefined {
  const roles = grantedRoles(route);
  for (const user of mock.app.registry.users.values()) {
    if (user.status !== 'Active') continue;
    const organization = mock.app.registry.organizations.get(user.organizationId);
    if (organization?.status !== 'Active') continue;
    if (user.roles.some((role) => roles.has(role)) === allowed) return user.username;
  }
  return undefined;
}

const codesListed = (route: Route, status: string): string[] => {
  const response = route.operation.responses?.[status];
  if (!response) return [];
  const content = deref<JsonObject>(route.contract.doc, response).content as Record<string, JsonObject> | undefined;
  return Object.keys((content?.['application/json']?.examples as object) ?? {});
};

describe('401: every secured operation refuses a request without a valid token (manual 6.2)', () => {
  it('no Authorization header: 401 AUTH_001 with WWW-Authenticate, on every secured operation', async () => {
    const routes = grexRoutes().filter(secured);
    assert.ok(routes.length > 60);
    for (const route of routes) {
      const reply = await mock.request(route.method.toUpperCase(), pathOf(route));
      assert.equal(reply.status, 401, `${route.operationId}: ${reply.text}`);
      assert.equal(reply.json.responseCode, 'AUTH_001', route.operationId);
      assert.match(reply.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
    }
  });

  it('a malformed token, a token signed by another key, and a non-Bearer scheme are refused', async () => {
    const path = '/managementapi/AH/managementapi/Accounts';
    const good = await mock.token('ib-root');
    const [head, body] = good.split('.');
    const forged = `${head}.${body}.${Buffer.from('not the signature').toString('base64url')}`;
    for (const authorization of ['Bearer abc.def', `Bearer ${forged}`, `Basic ${good}`, 'Bearer', `Bearer ${good}x`]) {
      const reply = await mock.request('GET', path, { headers: { authorization } });
      assert.equal(reply.status, 401, authorization.slice(0, 20));
      assert.equal(reply.json.responseCode, 'AUTH_001');
    }
  });

  it('two Authorization headers are refused, whichever of them holds a good token', async () => {
    const token = await mock.token('ib-root');
    const origin = new URL(mock.url);
    // Node's server keeps the first Authorization header of a request and drops the others: the mock must see both.
    const send = (authorization: string[]) =>
      new Promise<{ status: number; challenge: string }>((resolve, reject) => {
        const request = httpRequest({ host: origin.hostname, port: origin.port, path: '/masterdataapi/IB/masterdataapi/Technologies?$top=1', headers: { accept: 'application/json', 'user-agent': 'test/1.0' } }, (response) => {
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode ?? 0, challenge: String(response.headers['www-authenticate'] ?? '') }));
        });
        // One header line per value.
        request.setHeader('authorization', authorization);
        request.on('error', reject);
        request.end();
      });
    assert.equal((await send([`Bearer ${token}`])).status, 200);
    for (const pair of [[`Bearer ${token}`, `Bearer ${token}`], [`Bearer ${token}`, 'Bearer x'], ['Bearer x', `Bearer ${token}`]]) {
      const refused = await send(pair);
      assert.equal(refused.status, 401, pair.map((value) => value.slice(0, 12)).join(' + '));
      assert.match(refused.challenge, /2 Authorization headers/);
    }
  });

  it('a token whose three segments are not strict base64url is refused, though a lenient decoder reads the same signature', async () => {
    const path = '/masterdataapi/IB/masterdataapi/Technologies?$top=1';
    const good = await mock.token('ib-root');
    const issued = await mock.request('GET', path, { token: good });
    assert.equal(issued.status, 200, issued.text);
    const [head, body, signature] = good.split('.');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // A 256-byte signature is 342 characters: the last one carries 2 bits and 4 unused ones; flipping an unused bit decodes to the same bytes.
    const sameBytes = `${signature.slice(0, -1)}${alphabet[alphabet.indexOf(signature.slice(-1)) ^ 1]}`;
    assert.deepEqual(Buffer.from(sameBytes, 'base64url'), Buffer.from(signature, 'base64url'));
    for (const token of [`${good}!!`, `${good}==`, `${good}%%%%`, `${head}.${body}.${signature.slice(0, 100)}\t${signature.slice(100)}`, `${head}.${body}.${sameBytes}`, `${head}.${body}+.${signature}`]) {
      const reply = await mock.request('GET', path, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(reply.status, 401, JSON.stringify(token.slice(-12)));
      assert.equal(reply.json.responseCode, 'AUTH_001');
      assert.match(reply.headers.get('www-authenticate') ?? '', /not three base64url segments/, JSON.stringify(token.slice(-12)));
    }
  });

  it("a token signed by the mock's key is still refused for another issuer, audience, policy (tfp: only B2C_1_SignIn) or scope, or an unknown user", async () => {
    const path = '/masterdataapi/IB/masterdataapi/Technologies?$top=1';
    const user = mock.app.registry.usersByName.get('ib-root');
    assert.ok(user);
    const tenant = mock.app.tokens.tenant('gcrfdemo');
    assert.ok(tenant);
    const good = mock.app.tokens.issueAccessToken({ oid: user.userId, name: user.displayName, email: user.email }, tenant).claims;
    assert.equal((await mock.request('GET', path, { token: mock.app.tokens.signJwt(good) })).status, 200, 'the unchanged claims pass');
    assert.equal((await mock.request('GET', path, { token: mock.app.tokens.signJwt({ ...good, tfp: 'b2c_1_signin' }) })).status, 200, 'policy ids ignore case');
    const { tfp: _none, ...withoutPolicy } = good;
    for (const [what, claims, reason] of [
      ['issuer', { ...good, iss: 'https://login.example.com/v2.0/' }, /not signed by this issuer/],
      ['audience', { ...good, aud: '00000000-0000-4000-8000-000000000000' }, /not signed by this issuer/],
      ['password-reset policy', { ...good, tfp: 'B2C_1_PasswordReset' }, /issued by the policy B2C_1_PasswordReset, not B2C_1_SignIn/],
      ['another sign-in policy', { ...good, tfp: 'B2C_1_SignUpSignIn' }, /issued by the policy B2C_1_SignUpSignIn, not B2C_1_SignIn/],
      ['no policy', withoutPolicy, /names no policy \(tfp\)/],
      ['scope', { ...good, scp: 'openid' }, /not signed by this issuer/],
      ['user', { ...good, oid: '00000000-0000-4000-8000-000000000000', sub: '00000000-0000-4000-8000-000000000000' }, /not known to G-REX/],
      ['a payload of null', null as unknown as object, /not signed by this issuer/],
      ['a payload of a number', 7 as unknown as object, /not signed by this issuer/],
    ] as const) {
      const reply = await mock.request('GET', path, { token: mock.app.tokens.signJwt(claims) });
      assert.equal(reply.status, 401, what);
      assert.equal(reply.json.responseCode, 'AUTH_001', what);
      assert.match(reply.headers.get('www-authenticate') ?? '', reason, what);
    }
  });

  it('a token expires on the mock clock: valid before, 401 after', async () => {
    const issued = await mock.admin('POST', '/__admin/token', { user: 'ib-root', lifetimeSeconds: 60 });
    const token = issued.json.access_token as string;
    const path = '/masterdataapi/IB/masterdataapi/Technologies';
    assert.equal((await mock.request('GET', path, { token })).status, 200);
    await mock.admin('POST', '/__admin/clock', { advance: 'PT61S' });
    const reply = await mock.request('GET', path, { token });
    assert.equal(reply.status, 401);
    assert.match(reply.headers.get('www-authenticate') ?? '', /expired/);
    await mock.admin('POST', '/__admin/reset');
  });

  it('the token of an inactive user is refused', async () => {
    const inactive = [...mock.app.registry.users.values()].find((user) => user.status === 'Inactive');
    assert.ok(inactive, 'the fixtures have an inactive user');
    const token = await mock.token(inactive.username);
    const reply = await mock.request('GET', '/masterdataapi/AH/masterdataapi/Technologies', { token });
    assert.equal(reply.status, 401);
    assert.match(reply.headers.get('www-authenticate') ?? '', /inactive/);
  });
});

describe('403 AUTH_003: the permission table is enforced from x-permissions, as JSON (not the firewall HTML)', () => {
  it('every secured operation refuses a user without one of its roles', async () => {
    let checked = 0;
    for (const route of grexRoutes().filter(secured)) {
      const username = userFor(route, false);
      if (!username) continue;
      const reply = await mock.request(route.method.toUpperCase(), pathOf(route), { token: await mock.token(username) });
      assert.equal(reply.status, 403, `${route.operationId} as ${username}: ${reply.text}`);
      assert.equal(reply.json.responseCode, 'AUTH_003');
      assert.match(reply.headers.get('content-type') ?? '', /application\/json/);
      checked++;
    }
    assert.ok(checked > 60, `only ${checked} operations had a user without their roles`);
  });
});

describe('request validation from the contracts', () => {
  it('every write that takes a body answers its _004 to an unexpected content type', async () => {
    let checked = 0;
    for (const route of grexRoutes().filter((candidate) => candidate.operation.requestBody)) {
      const username = userFor(route, true);
      assert.ok(username, route.operationId);
      const reply = await mock.request(route.method.toUpperCase(), pathOf(route), { token: await mock.token(username), body: 'name=x', contentType: 'text/plain' });
      const expected = codesListed(route, '400').find((code) => code.endsWith('_004'));
      assert.equal(reply.status, 400, `${route.operationId}: ${reply.text}`);
      assert.equal(reply.json.responseCode, expected, route.operationId);
      checked++;
    }
    assert.ok(checked >= 15, `${checked}`);
  });

  it('every write that takes a body answers its _002, naming the fields, to malformed JSON and to an empty object', async () => {
    for (const route of grexRoutes().filter((candidate) => candidate.operation.requestBody)) {
      const token = await mock.token(userFor(route, true) as string);
      const malformed = await mock.request(route.method.toUpperCase(), pathOf(route), { token, body: '{"name": ' });
      assert.equal(malformed.status, 400, `${route.operationId}: ${malformed.text}`);
      assert.match(malformed.json.responseCode, /_002$/, route.operationId);
      assert.match(malformed.json.responseMessage, /body/, route.operationId);
      const empty = await mock.request(route.method.toUpperCase(), pathOf(route), { token, body: {} });
      assert.equal(empty.status, 400, `${route.operationId}: ${empty.text}`);
      assert.match(empty.json.responseCode, /_002$/, route.operationId);
    }
  });

  it('every collection GET answers its _002 to $top=0 and, where it takes $filter, to an unknown field', async () => {
    let checked = 0;
    for (const route of grexRoutes().filter((candidate) => candidate.method === 'get' && candidate.parameters.some((p) => p.name === '$top'))) {
      const token = secured(route) ? await mock.token(userFor(route, true) as string) : undefined;
      const base = pathOf(route, '643001000000000012');
      const queries = ['$top=0'];
      if (route.parameters.some((p) => p.name === '$filter')) queries.push("$top=5&$filter=nosuchfield eq 'x'");
      for (const query of queries) {
        const reply = await mock.request('GET', `${base}?${query}`, { token });
        assert.equal(reply.status, 400, `${route.operationId}?${query}: ${reply.text}`);
        assert.match(reply.json.responseCode, /_002$/, `${route.operationId}?${query}`);
      }
      checked++;
    }
    assert.ok(checked >= 30, `${checked}`);
  });

  it('an unknown path answers 404 ROUTE_001 and a known path with another method 405 ROUTE_005 with Allow', async () => {
    const unknown = await mock.request('GET', '/managementapi/AH/managementapi/Nothing');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.responseCode, 'ROUTE_001');
    const method = await mock.request('DELETE', '/managementapi/AH/managementapi/Accounts');
    assert.equal(method.status, 405);
    assert.equal(method.json.responseCode, 'ROUTE_005');
    assert.equal(method.headers.get('allow'), 'GET, POST');
  });

  it('routes without regard to the case of literal segments, as ASP.NET does', async () => {
    const token = await mock.token('ib-root');
    const reply = await mock.request('GET', '/MasterDataAPI/ib/masterdataapi/technologies?$top=2', { token });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.length, 2);
  });

  it('a path asked for again routes as the first time: per method, per path parameter, and past the length the router remembers', async () => {
    const token = await mock.token('eolien-trader');
    const path = '/managementapi/AH/managementapi/Accounts/643003000000000002';
    for (let round = 0; round < 3; round++) {
      const read = await mock.request('GET', path, { token });
      assert.equal(read.status, 200, read.text);
      assert.equal(read.json.accountNumber, '643003000000000002');
      const other = await mock.request('GET', path.replace(/2$/, '5'), { token });
      assert.equal(other.json.accountNumber, '643003000000000005');
      const wrong = await mock.request('DELETE', path, { token });
      assert.equal(wrong.status, 405, wrong.text);
    }
    // Longer than the router keeps (256 characters): routed afresh each time, same answer.
    const long = `/managementapi/AH/managementapi/Accounts/${'9'.repeat(300)}`;
    for (let round = 0; round < 2; round++) {
      const reply = await mock.request('GET', long, { token });
      assert.equal(reply.status, 400, reply.text);
      assert.match(reply.json.responseCode, /_002$/);
    }
  });

  it('a body over the limit answers 413 REQUEST_013 and changes nothing', async () => {
    const token = await mock.token('ib-root');
    const before = (await mock.admin('GET', '/__admin/state')).json;
    const reply = await mock.request('POST', '/transactionapi/IB/transactionapi/Withdrawals', { token, body: JSON.stringify({ reason: 'x'.repeat(1_100_000) }) });
    assert.equal(reply.status, 413);
    assert.equal(reply.json.responseCode, 'REQUEST_013');
    assert.deepEqual((await mock.admin('GET', '/__admin/state')).json.bundles, before.bundles);
  });

  it('collections page with $top and $skip, and filter and order with $filter and $orderby', async () => {
    const token = await mock.token('ib-root');
    const path = '/masterdataapi/IB/masterdataapi/Technologies';
    const all = (await mock.request('GET', `${path}?$top=500`, { token })).json as { code: string; active: boolean }[];
    assert.ok(all.length >= 5);
    const page = (await mock.request('GET', `${path}?$top=2&$skip=1`, { token })).json;
    assert.deepEqual(page, all.slice(1, 3));
    const ordered = (await mock.request('GET', `${path}?$top=500&$orderby=code desc`, { token })).json as { code: string }[];
    assert.deepEqual(ordered.map((t) => t.code), all.map((t) => t.code).sort().reverse());
    const filtered = (await mock.request('GET', `${path}?$top=500&$filter=${encodeURIComponent("startswith(code,'T02') and active eq true")}`, { token })).json as { code: string }[];
    assert.ok(filtered.length > 0 && filtered.every((t) => t.code.startsWith('T02')));
  });
});

describe('the admin API', () => {
  it('POST /__admin/token refuses unknown users and bad input with a clear message', async () => {
    for (const [body, status] of [
      [{ user: 'nobody' }, 404],
      [{}, 400],
      [{ user: 'ib-root', tenant: 'contoso' }, 400],
      [{ user: 'ib-root', lifetimeSeconds: -5 }, 400],
    ] as const) {
      const reply = await mock.admin('POST', '/__admin/token', body);
      assert.equal(reply.status, status, JSON.stringify(body));
      assert.equal(typeof reply.json.error, 'string');
    }
    const malformed = await mock.request('POST', '/__admin/token', { body: '{user:' });
    assert.equal(malformed.status, 400);
    assert.match(malformed.json.error, /not valid JSON/);
  });

  it('issues RS256 tokens with a kid and the B2C claims', async () => {
    const reply = await mock.admin('POST', '/__admin/token', { user: 'ib-root' });
    const [head, body] = (reply.json.access_token as string)
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    assert.equal(head.alg, 'RS256');
    assert.equal(typeof head.kid, 'string');
    for (const claim of ['iss', 'aud', 'exp', 'nbf', 'iat', 'oid', 'sub', 'name', 'emails', 'tfp', 'scp', 'azp', 'ver', 'auth_time']) assert.ok(claim in body, claim);
    assert.equal(body.auth_time, body.iat, 'signed in just now');
    assert.equal(body.sub, body.oid);
    assert.equal(body.scp, 'user_impersonation');
    assert.equal(body.tfp, 'B2C_1_SignIn');
    assert.match(body.iss, /^https:\/\/gcrfdemo\.b2clogin\.com\/[0-9a-f-]{36}\/v2\.0\/$/);
  });

  it('reads, sets and advances the one clock, and refuses bad input', async () => {
    const set = await mock.admin('POST', '/__admin/clock', { now: '2027-01-15T10:00:00Z' });
    assert.equal(set.status, 200);
    assert.match(set.json.now, /^2027-01-15T10:00:0/);
    const advanced = await mock.admin('POST', '/__admin/clock', { advance: 'P1DT2H' });
    assert.match(advanced.json.now, /^2027-01-16T12:00:0/);
    assert.match((await mock.admin('GET', '/__admin/clock')).json.now, /^2027-01-16T12:0/);
    for (const body of [{ advance: '1 day' }, { now: 'tomorrow' }, {}, { now: '2027-01-01T00:00:00Z', advance: 'PT1S' }]) {
      assert.equal((await mock.admin('POST', '/__admin/clock', body)).status, 400, JSON.stringify(body));
    }
    await mock.admin('POST', '/__admin/reset');
  });

  it('journals every exchange with what each stage decided, as NDJSON and HAR, bounded by its capacity', async () => {
    await mock.admin('DELETE', '/__admin/journal');
    await mock.request('GET', '/managementapi/AH/managementapi/Accounts');
    const token = await mock.token('ib-root');
    await mock.request('GET', '/masterdataapi/IB/masterdataapi/Countries?$top=1', { token });
    const ndjson = await mock.admin('GET', '/__admin/journal');
    assert.match(ndjson.headers.get('content-type') ?? '', /application\/x-ndjson/);
    const lines = ndjson.text.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(lines.length, 2);
    assert.deepEqual(lines[0].decisions.map((d: { stage: string; outcome: string }) => `${d.stage}:${d.outcome}`), ['firewall:pass', 'route:pass', 'auth:reject']);
    assert.equal(lines[1].operationId, 'ibGetCountries');
    assert.equal(lines[1].user, 'ib-root');
    assert.equal(lines[1].response.status, 200);
    const har = await mock.admin('GET', '/__admin/journal?format=har&limit=1');
    assert.equal(har.json.log.entries.length, 1);
    assert.equal(har.json.log.entries[0].response.status, 200);
    assert.equal((await mock.admin('GET', '/__admin/journal?format=xml')).status, 400);
  });

  it('exports HAR 1.2 with absolute URLs, which a HAR validator we did not write accepts and the grader reads back as its NDJSON', async () => {
    await mock.admin('DELETE', '/__admin/journal');
    const token = await mock.token('ib-root');
    await mock.request('GET', '/masterdataapi/IB/masterdataapi/Countries?$top=1&$skip=0', { token });
    // A client pointed at the mock by a hosts entry names the real host; one without Host (refused by the firewall) names none.
    const origin = new URL(mock.url);
    const raw = (headers: Record<string, string>, setHost: boolean) =>
      new Promise<number>((resolve, reject) => {
        const request = httpRequest({ host: origin.hostname, port: origin.port, path: '/masterdataapi/IB/masterdataapi/Countries?$top=2', setHost, headers: { accept: 'application/json', 'user-agent': 'test/1.0', authorization: `Bearer ${token}`, ...headers } }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        });
        request.on('error', reject);
        request.end();
      });
    assert.equal(await raw({ host: 'eexfrancedemoapi.grexel.com' }, false), 200);
    assert.equal(await raw({}, false), 403);
    await mock.request('POST', '/transactionapi/AH/transactionapi/Transfers', { token, body: {} });
    const har = (await mock.admin('GET', '/__admin/journal?format=har')).json;
    assert.deepEqual(
      har.log.entries.map((entry: { request: { url: string } }) => entry.request.url),
      [
        `http://${origin.host}/masterdataapi/IB/masterdataapi/Countries?$top=1&$skip=0`,
        'http://eexfrancedemoapi.grexel.com/masterdataapi/IB/masterdataapi/Countries?$top=2',
        `http://${origin.host}/masterdataapi/IB/masterdataapi/Countries?$top=2`,
        `http://${origin.host}/transactionapi/AH/transactionapi/Transfers`,
      ],
    );
    await assertHar12(har);
    const work = mkdtempSync(join(tmpdir(), 'grex-har-'));
    writeFileSync(join(work, 'journal.har'), JSON.stringify(har));
    writeFileSync(join(work, 'journal.ndjson'), (await mock.admin('GET', '/__admin/journal')).text);
    const graded = await Promise.all(['har', 'ndjson'].map(async (format) => {
      const result = await runCliAsync(['grade', join(work, `journal.${format}`), '--out', join(work, format), '--format', 'json']);
      assert.equal(result.status, 1, result.stdout + result.stderr);
      const report = JSON.parse(readFileSync(join(work, format, 'report.json'), 'utf8'));
      return { graded: report.graded, failed: report.rules.filter((rule: { passed: boolean }) => !rule.passed).map((rule: { rule: string; evidence: { reason: string }[] }) => [rule.rule, rule.evidence.map((finding) => finding.reason)]) };
    }));
    assert.equal(graded[0].graded, 4);
    assert.deepEqual(graded[0], graded[1]);
  });

  it('a request line that is no valid URL (absolute-form `http://[x/...`) is journaled, and neither the HAR export nor grade fails on it', async () => {
    await mock.admin('DELETE', '/__admin/journal');
    const origin = new URL(mock.url);
    const path = '/transactionapi/AH/transactionapi/Transfers?lang=fr';
    // As a client that takes the mock for a forward proxy sends it; Node's parser lets it through, `new URL` throws on it.
    // A body without Content-Type: the firewall refuses it before routing, so the grader checks it against the contracts itself.
    const answered = await new Promise<string>((resolve, reject) => {
      const socket = createConnection(Number(origin.port), origin.hostname);
      let text = '';
      socket.on('data', (chunk) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.write(`POST http://[x${path} HTTP/1.1\r\nHost: ${origin.host}\r\nAccept: application/json\r\nUser-Agent: test/1.0\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
    });
    assert.match(answered, /^HTTP\/1\.1 403 /);
    const har = await mock.admin('GET', '/__admin/journal?format=har');
    assert.equal(har.status, 200, har.text);
    assert.equal(har.json.log.entries[0].request.url, `http://[x${path}`);
    assert.deepEqual(har.json.log.entries[0].request.queryString, [{ name: 'lang', value: 'fr' }]);
    const work = mkdtempSync(join(tmpdir(), 'grex-badurl-'));
    writeFileSync(join(work, 'journal.ndjson'), (await mock.admin('GET', '/__admin/journal')).text);
    const result = await runCliAsync(['grade', join(work, 'journal.ndjson'), '--out', join(work, 'out'), '--format', 'json']);
    assert.equal(result.stderr, '');
    const report = JSON.parse(readFileSync(join(work, 'out', 'report.json'), 'utf8'));
    assert.equal(report.apiRequests, 1, result.stdout);
    assert.deepEqual(report.rules.find((rule: { rule: string }) => rule.rule === 'required-headers').evidence.map((finding: { reason: string }) => finding.reason), ['POST /transactionapi/AH/transactionapi/Transfers without content-type']);
  });

  it('reset brings back the fixtures', async () => {
    const before = (await mock.admin('GET', '/__admin/state')).json;
    await mock.admin('POST', '/__admin/clock', { advance: 'P400D' });
    const later = (await mock.admin('GET', '/__admin/state')).json;
    assert.ok((later.bundles.Expired ?? 0) > (before.bundles.Expired ?? 0), 'time moved certificates to Expired');
    await mock.admin('POST', '/__admin/reset');
    assert.deepEqual({ ...(await mock.admin('GET', '/__admin/state')).json, clock: 0, journal: 0 }, { ...before, clock: 0, journal: 0 });
  });

  it('answers unknown admin paths with the list of admin resources', async () => {
    const reply = await mock.admin('GET', '/__admin/nothing');
    assert.equal(reply.status, 404);
    assert.match(reply.json.error, /__admin\/token/);
  });
});

describe('self-check: every answer is validated against its contract in test mode', () => {
  it('turns an answer that breaks the contract into a loud 500, and counts it', async () => {
    const broken = await startMock({
      port: 0,
      host: '127.0.0.1',
      selfCheck: true,
      handlers: { ibGetCountries: () => ({ kind: 'json', status: 200, body: [{ code: 'FR' }] }) },
    });
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (errors.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      const token = (await (await fetch(`${broken.url}/__admin/token`, { method: 'POST', body: JSON.stringify({ user: 'ib-root' }) })).json()).access_token;
      const reply = await fetch(`${broken.url}/masterdataapi/IB/masterdataapi/Countries`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(reply.status, 500);
      assert.equal(reply.headers.get('x-grex-self-check'), 'failed');
      assert.match((await reply.json()).responseMessage, /ibGetCountries answered 200 against its contract: .*must have required property 'name'/);
      assert.ok(errors.some((line) => line.includes('SELF-CHECK FAILED')), 'printed loudly');
      assert.equal((await (await fetch(`${broken.url}/__admin/health`)).json()).selfCheckFailures, 1);
    } finally {
      process.stderr.write = write;
      await broken.close();
    }
  });

  it('lets the same answer through unchanged when self-check is off (the default for users)', async () => {
    const lax = await startMock({ port: 0, host: '127.0.0.1', handlers: { ibGetCountries: () => ({ kind: 'json', status: 200, body: [{ code: 'FR' }] }) } });
    try {
      const token = (await (await fetch(`${lax.url}/__admin/token`, { method: 'POST', body: JSON.stringify({ user: 'ib-root' }) })).json()).access_token;
      const reply = await fetch(`${lax.url}/masterdataapi/IB/masterdataapi/Countries`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(reply.status, 200);
      assert.deepEqual(await reply.json(), [{ code: 'FR' }]);
    } finally {
      await lax.close();
    }
  });
});

describe('the journal is bounded', () => {
  it('keeps the last N exchanges of a ring of N, and counts them all', async () => {
    const small = await startMock({ port: 0, host: '127.0.0.1', journalCapacity: 3 });
    try {
      for (let i = 0; i < 5; i++) await fetch(`${small.url}/masterdataapi/IB/masterdataapi/Countries?$top=${i + 1}`);
      const lines = (await (await fetch(`${small.url}/__admin/journal`)).text()).trim().split('\n').map((line) => JSON.parse(line));
      assert.deepEqual(lines.map((entry) => new URL(entry.request.url, 'http://x').searchParams.get('$top')), ['3', '4', '5']);
      assert.deepEqual((await (await fetch(`${small.url}/__admin/health`)).json()).journal, { size: 3, recorded: 5 });
    } finally {
      await small.close();
    }
  });

  it('keeps each exchange as it was: strings that end alike, header lists that repeat or change, a journal file line for line the same', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'grex-journal-')), 'spill.ndjson');
    const small = await startMock({ port: 0, host: '127.0.0.1', journalCapacity: 50, journalSpillFile: file });
    let open = true;
    try {
      // The journal interns strings by their last 40 characters: these share them and differ before.
      const tail = `&pad=${'t'.repeat(60)}`;
      const sent: { url: string; agent: string; extra?: string; answer: string }[] = [];
      for (let i = 0; i < 12; i++) {
        const url = `/masterdataapi/IB/masterdataapi/Countries?$top=${(i % 3) + 1}${tail}`;
        const agent = `${'ABC'[i % 3]}-client ${'u'.repeat(50)}`;
        const extra = i % 4 === 0 ? `x${i}` : undefined;
        const reply = await fetch(`${small.url}${url}`, { headers: { 'user-agent': agent, ...(extra ? { 'x-extra': extra } : {}) } });
        sent.push({ url, agent, extra, answer: await reply.text() });
      }
      const lines = (await (await fetch(`${small.url}/__admin/journal`)).text()).trim().split('\n').map((line) => JSON.parse(line));
      assert.equal(lines.length, 12);
      lines.forEach((entry, i) => {
        assert.equal(entry.request.url, sent[i].url);
        assert.equal(entry.request.headers['user-agent'], sent[i].agent);
        assert.equal(entry.request.headers['x-extra'], sent[i].extra);
        assert.equal(entry.response.body, sent[i].answer);
      });
      await small.close();
      open = false;
      const spilled = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      assert.deepEqual(spilled, lines);
    } finally {
      if (open) await small.close();
    }
  });

  it('keeps within its byte budget: the newest exchanges, whole and in order', async () => {
    const budget = 48 * 1024;
    const small = await startMock({ port: 0, host: '127.0.0.1', journalCapacity: 1000, journalMaxBytes: budget });
    try {
      // Exchanges of very different sizes (a padding query parameter), so that lines wrap at every point of the buffer.
      for (let i = 1; i <= 120; i++) await fetch(`${small.url}/masterdataapi/IB/masterdataapi/Countries?$top=${i}&pad=${'x'.repeat((i * 397) % 1500)}`);
      const text = await (await fetch(`${small.url}/__admin/journal`)).text();
      const lines = text.trim().split('\n');
      const tops = lines.map((line) => Number(new URL(JSON.parse(line).request.url, 'http://x').searchParams.get('$top')));
      assert.ok(tops.length >= 5, `kept ${tops.length}`);
      assert.equal(tops.at(-1), 120, 'the newest is kept');
      assert.deepEqual(tops, tops.map((_, i) => 120 - tops.length + 1 + i), 'contiguous and in order');
      assert.ok(Buffer.byteLength(text) - lines.length <= budget, `${Buffer.byteLength(text)} bytes kept`);
      const health = (await (await fetch(`${small.url}/__admin/health`)).json()) as { journal: { size: number; recorded: number } };
      assert.deepEqual(health.journal, { size: lines.length, recorded: 120 });
      const har = (await (await fetch(`${small.url}/__admin/journal?format=har&limit=2`)).json()) as { log: { entries: { request: { url: string } }[] } };
      assert.deepEqual(har.log.entries.map((entry) => new URL(entry.request.url, 'http://x').searchParams.get('$top')), ['119', '120']);
    } finally {
      await small.close();
    }
  });
});

describe('--write-latency: a registry that takes time over writes', () => {
  it('answers writes to the APIs after the latency, journaled from their arrival, so writes in flight together overlap; reads and B2C are not delayed', async () => {
    const slow = await startMock({ port: 0, host: '127.0.0.1', writeLatencyMs: 300 });
    try {
      const write = () => fetch(`${slow.url}/transactionapi/AH/transactionapi/Transfers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const started = performance.now();
      const answers = await Promise.all([write(), write()]);
      assert.ok(performance.now() - started >= 290, 'answered after the latency');
      assert.deepEqual(answers.map((answer) => answer.status), [401, 401]);
      await fetch(`${slow.url}/masterdataapi/IB/masterdataapi/Countries?$top=1`);
      const lines = (await (await fetch(`${slow.url}/__admin/journal`)).text()).trim().split('\n').map((line) => JSON.parse(line));
      const writes = lines.filter((entry) => entry.request.method === 'POST');
      assert.equal(writes.length, 2);
      for (const entry of writes) assert.ok(entry.durationMs >= 290, `durationMs ${entry.durationMs}`);
      const read = lines.find((entry) => entry.request.method === 'GET');
      assert.ok(read.durationMs < 290, `a read is not delayed (durationMs ${read.durationMs})`);
      const [a, b] = writes.map((entry) => Date.parse(entry.startedAt));
      assert.ok(Math.abs(a - b) < 200, 'both journaled from their arrival: they overlap');
    } finally {
      await slow.close();
    }
  });
});
