import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import { runCli, startCliMock, type StartedMock } from './support/cli.js';
import { startTestMock, type TestMock } from './support/mock.js';

/**
 * Test-only faults: the mock made wrong on purpose (for the suites'
 * meta-tests and the proxy's drift report). Off unless asked for; each one
 * does exactly its damage, says so in the journal, and a bad one changes nothing.
 */

const ACCOUNT = '/managementapi/AH/managementapi/Accounts/643003000000000001';
const ACCOUNTS = '/managementapi/AH/managementapi/Accounts?$top=3&$skip=0';

/** A GET without Accept (fetch always adds one). */
function bare(base: string, path: string, token: string): Promise<{ status: number; type: string | undefined }> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, headers: { 'user-agent': 'faults-test/1.0', authorization: `Bearer ${token}` }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('test-only faults over /__admin/faults', () => {
  let mock: TestMock;
  before(async () => {
    mock = await startTestMock('faults');
  });
  after(async () => {
    await mock.admin('DELETE', '/__admin/faults');
    await mock.close();
  });

  it('are off by default', async () => {
    const reply = await mock.admin('GET', '/__admin/faults');
    assert.deepEqual(reply.json, { faults: [] });
  });

  it('set-field changes one field of one operation, after the self-check, and the journal says so', async () => {
    const clean = await mock.as('eolien-trader', 'GET', ACCOUNT);
    assert.equal(typeof clean.json.accountNumber, 'string');
    const added = await mock.admin('POST', '/__admin/faults', { kind: 'set-field', operationId: 'ahGetAccount', field: 'accountNumber', value: 42 });
    assert.equal(added.status, 200, added.text);
    const faulty = await mock.as('eolien-trader', 'GET', ACCOUNT);
    assert.equal(faulty.status, 200);
    assert.equal(faulty.json.accountNumber, 42);
    assert.equal(faulty.headers.get('x-grex-self-check'), null);
    // Another operation is untouched, and the registry's own object was not changed.
    const list = await mock.as('eolien-trader', 'GET', ACCOUNTS);
    assert.ok(list.json.every((account: { accountNumber: unknown }) => typeof account.accountNumber === 'string'));
    const journal = await mock.admin('GET', '/__admin/journal?limit=5');
    const lines = journal.text.trim().split('\n').map((line) => JSON.parse(line));
    const marked = lines.find((entry) => entry.operationId === 'ahGetAccount' && entry.decisions.some((d: { code?: string }) => d.code === 'FAULT'));
    assert.ok(marked, 'the faulty exchange is marked in the journal');
    await mock.admin('DELETE', '/__admin/faults');
    const again = await mock.as('eolien-trader', 'GET', ACCOUNT);
    assert.equal(again.json.accountNumber, '643003000000000001');
  });

  it('remove-field walks arrays: every item of a list loses the field', async () => {
    await mock.admin('POST', '/__admin/faults', { faults: [{ kind: 'remove-field', operationId: 'ahGetAccounts', field: 'accountNumber' }] });
    const list = await mock.as('eolien-trader', 'GET', ACCOUNTS);
    assert.ok(list.json.length > 0);
    assert.ok(list.json.every((account: object) => !('accountNumber' in account)));
    await mock.admin('DELETE', '/__admin/faults');
  });

  it('wrong-code answers another code, only where the domain decided `when`', async () => {
    await mock.admin('POST', '/__admin/faults', { kind: 'wrong-code', operationId: 'ahGetAccount', when: 'ACCOUNT_001', code: 'ACCOUNT_002' });
    const fine = await mock.as('eolien-trader', 'GET', ACCOUNT);
    assert.equal(fine.status, 200, 'a 200 is not the code the fault waits for');
    const missing = await mock.as('eolien-trader', 'GET', '/managementapi/AH/managementapi/Accounts/643003999999999999');
    assert.notEqual(missing.status, 200);
    await mock.admin('DELETE', '/__admin/faults');
    const honest = await mock.as('eolien-trader', 'GET', '/managementapi/AH/managementapi/Accounts/643003999999999999');
    await mock.admin('POST', '/__admin/faults', { kind: 'wrong-code', operationId: 'ahGetAccount', when: honest.json.responseCode, code: 'AUTH_003' });
    const wrong = await mock.as('eolien-trader', 'GET', '/managementapi/AH/managementapi/Accounts/643003999999999999');
    assert.equal(wrong.json.responseCode, 'AUTH_003');
    assert.equal(wrong.status, 403);
    await mock.admin('DELETE', '/__admin/faults');
  });

  it('skip-rule lets one firewall rule through', async () => {
    const token = await mock.token('eolien-trader');
    await mock.admin('POST', '/__admin/firewall', { enabled: true, profile: 'strict' });
    try {
      assert.equal((await bare(mock.url, ACCOUNT, token)).status, 403);
      await mock.admin('POST', '/__admin/faults', { kind: 'skip-rule', rule: 'header-accept' });
      assert.equal((await bare(mock.url, ACCOUNT, token)).status, 200);
    } finally {
      await mock.admin('DELETE', '/__admin/faults');
      await mock.admin('POST', '/__admin/firewall', { profile: 'realistic' });
    }
  });

  it('skip-rule blocked lets a blocked client through, judged on its request alone', async () => {
    const token = await mock.token('eolien-trader');
    await mock.admin('POST', '/__admin/firewall', { enabled: true, blockAfter: 2 });
    try {
      for (let sent = 0; sent < 2; sent++) assert.equal((await bare(mock.url, ACCOUNT, token)).status, 403);
      const good = await mock.as('eolien-trader', 'GET', ACCOUNT);
      assert.equal(good.status, 403, 'the client is blocked');
      assert.match(good.text, /<html/);
      await mock.admin('POST', '/__admin/faults', { kind: 'skip-rule', rule: 'blocked' });
      assert.equal((await mock.as('eolien-trader', 'GET', ACCOUNT)).status, 200, 'a good request passes the block');
      assert.equal((await bare(mock.url, ACCOUNT, token)).status, 403, 'a bad one is still refused for its own rule');
    } finally {
      await mock.admin('DELETE', '/__admin/faults');
      await mock.admin('POST', '/__admin/reset');
      await mock.admin('POST', '/__admin/firewall', { blockAfter: 5 });
    }
  });

  describe('a fault bends the answer of the stage it names, and of no other', () => {
    afterEach(async () => {
      await mock.admin('DELETE', '/__admin/faults');
      await mock.admin('POST', '/__admin/fairuse', { enabled: false, overrides: {} });
      await mock.admin('POST', '/__admin/reset');
    });
    const add = async (fault: object) => assert.equal((await mock.admin('POST', '/__admin/faults', fault)).status, 200);
    const lastDecisions = async () => JSON.parse((await mock.admin('GET', '/__admin/journal?limit=1')).text.trim()).decisions as { stage: string; code?: string; detail?: string }[];

    it('firewall: its refusal as the registry\'s JSON 403, with the journal saying so', async () => {
      await add({ kind: 'wrong-code', stage: 'firewall', code: 'AUTH_003' });
      const token = await mock.token('eolien-trader');
      assert.equal((await mock.as('eolien-trader', 'GET', ACCOUNT)).status, 200, 'a request the firewall passes is untouched');
      const url = new URL(ACCOUNT, mock.url);
      const refused = await new Promise<{ status: number; type?: string }>((resolve, reject) => {
        request({ host: url.hostname, port: url.port, path: url.pathname, headers: { 'user-agent': 'x', authorization: `Bearer ${token}` }, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] }));
        })
          .on('error', reject)
          .end();
      });
      assert.equal(refused.status, 403);
      assert.match(refused.type ?? '', /application\/json/);
      const decisions = await lastDecisions();
      assert.deepEqual(decisions.map((d) => d.stage), ['firewall', 'response']);
      assert.equal(decisions[1].code, 'FAULT');
    });

    it('fairuse: 429s without Retry-After, and a block answered as a plain limit (`when`)', async () => {
      const organizationId = (await mock.read('eolien-trader', '/managementapi/AH/managementapi/Organizations?$top=1&$skip=0'))[0].organizationId;
      await mock.admin('POST', '/__admin/fairuse', { enabled: true, blockAfter: 1, overrides: { [organizationId]: [{ requests: 1, windowSeconds: 3600 }] } });
      await add({ faults: [{ kind: 'remove-header', stage: 'fairuse', header: 'Retry-After' }, { kind: 'wrong-code', stage: 'fairuse', when: 'FAIRUSE_002', code: 'FAIRUSE_001' }] });
      assert.equal((await mock.as('eolien-trader', 'GET', ACCOUNTS)).status, 200);
      const limited = await mock.as('eolien-trader', 'GET', ACCOUNTS);
      assert.equal(limited.json.responseCode, 'FAIRUSE_001');
      assert.equal(limited.headers.get('retry-after'), null);
      const blocked = await mock.as('eolien-trader', 'GET', ACCOUNTS);
      assert.equal(blocked.json.responseCode, 'FAIRUSE_001', 'the block is hidden');
      assert.equal(blocked.status, 429);
      assert.equal((await lastDecisions()).find((d) => d.stage === 'fairuse')?.code, 'FAIRUSE_002', 'the journal keeps what the stage decided');
    });

    it('route: a 405 without Allow, a 404 untouched', async () => {
      await add({ kind: 'remove-header', stage: 'route', when: 'ROUTE_005', header: 'allow' });
      const wrongMethod = await mock.as('eolien-trader', 'DELETE', '/managementapi/AH/managementapi/Accounts');
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.headers.get('allow'), null);
      const nowhere = await mock.as('eolien-trader', 'GET', '/managementapi/AH/managementapi/Nowhere');
      assert.equal(nowhere.status, 404);
      assert.equal((await lastDecisions()).some((d) => d.code === 'FAULT'), false);
    });

    it('auth: a 401 without WWW-Authenticate whose envelope says 200; a good token untouched', async () => {
      await add({ faults: [{ kind: 'remove-header', stage: 'auth', header: 'www-authenticate' }, { kind: 'set-field', stage: 'auth', field: 'statusCode', value: 200 }] });
      const refused = await mock.as(null, 'GET', ACCOUNT);
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get('www-authenticate'), null);
      assert.equal(refused.json.statusCode, 200);
      assert.equal((await mock.as('eolien-trader', 'GET', ACCOUNT)).json.accountNumber, '643003000000000001');
    });

    it('validate: another media type answered as model validation, for one operation', async () => {
      await add({ kind: 'wrong-code', stage: 'validate', operationId: 'ahCreateTransfer', when: 'TRANSACTION_004', code: 'TRANSACTION_002' });
      const transfer = await mock.as('eolien-trader', 'POST', '/transactionapi/AH/transactionapi/Transfers', { body: 'x', contentType: 'text/plain' });
      assert.equal(transfer.json.responseCode, 'TRANSACTION_002');
      const account = await mock.as('eolien-root', 'PUT', '/managementapi/AH/managementapi/Accounts/643003000000000002', { body: 'x', contentType: 'text/plain' });
      assert.equal(account.json.responseCode, 'ACCOUNT_004', 'another operation is untouched');
    });

    it('domain, on B2C: a token response with another token type and a status of choice', async () => {
      await add({ faults: [{ kind: 'set-field', operationId: 'b2cRedeemToken', status: 200, field: 'token_type', value: 'MAC' }, { kind: 'set-status', operationId: 'b2cGetSigningKeys', value: 503 }] });
      const refresh = (await mock.admin('POST', '/__admin/refresh-token', { user: 'eolien-trader' })).json.refresh_token;
      const tenant = '/gcrfdemo.onmicrosoft.com/B2C_1_SignIn';
      const tokens = await mock.request('POST', `${tenant}/oauth2/v2.0/token`, { body: new URLSearchParams({ grant_type: 'refresh_token', client_id: '9e818394-185c-47e7-8b93-714714bfcf8f', refresh_token: refresh, scope: 'openid offline_access' }).toString(), contentType: 'application/x-www-form-urlencoded' });
      assert.equal(tokens.status, 200);
      assert.equal(tokens.json.token_type, 'MAC');
      assert.equal((await mock.request('GET', `${tenant}/discovery/v2.0/keys`)).status, 503);
    });

    it('docs: a documentation page answered with another status and type (not journaled)', async () => {
      await add({ faults: [{ kind: 'set-status', stage: 'docs', value: 404 }, { kind: 'set-header', stage: 'docs', header: 'Content-Type', value: 'text/plain' }] });
      const page = await mock.request('GET', '/managementapi/v2/swagger.json');
      assert.equal(page.status, 404);
      assert.equal(page.headers.get('content-type'), 'text/plain');
      assert.equal((await mock.as('eolien-trader', 'GET', ACCOUNT)).status, 200, 'the APIs are untouched');
    });
  });

  it('a bad fault in a list is refused with its reason, and none of the list is added', async () => {
    for (const [body, reason] of [
      [{ kind: 'explode' }, /"kind" must be one of/],
      [{ kind: 'set-field', field: 'a' }, /needs a "value"/],
      [{ kind: 'set-field', field: '..', value: 1 }, /dotted path/],
      [{ kind: 'wrong-code', code: 'NOPE_999' }, /response code the contracts define/],
      [{ kind: 'skip-rule', rule: 'everything' }, /"rule" must be one of/],
      [{ kind: 'set-status', stage: 'gateway', value: 500 }, /"stage" must be one of firewall, fairuse, route, auth, validate, domain, docs/],
      [{ kind: 'set-status', value: 99 }, /an HTTP status/],
      [{ kind: 'set-header', header: 'retry after', value: '1' }, /header name/],
      [{ kind: 'set-header', header: 'retry-after', value: 1 }, /string "value"/],
      [{ kind: 'remove-header', header: 'Content-Type' }, /cannot be removed/],
      [{ faults: [{ kind: 'remove-field', field: 'x' }, { kind: 'skip-rule' }] }, /^fault 2:/],
    ] as const) {
      const reply = await mock.admin('POST', '/__admin/faults', body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.match(reply.json.error, reason);
    }
    const malformed = await mock.request('POST', '/__admin/faults', { body: '{"kind":', contentType: 'application/json' });
    assert.equal(malformed.status, 400);
    assert.deepEqual((await mock.admin('GET', '/__admin/faults')).json, { faults: [] });
  });
});

describe('grex-harness mock --fault', () => {
  let started: StartedMock;
  before(async () => {
    started = await startCliMock(['--fault', '{"kind":"set-field","operationId":"ahGetAccount","field":"extra","value":"drift"}']);
  });
  after(async () => started.stop());

  it('starts with the fault on and says so loudly', async () => {
    assert.match(started.banner, /TEST-ONLY FAULTS ON/);
    const token = ((await (await fetch(`${started.url}/__admin/token`, { method: 'POST', body: '{"user":"eolien-trader"}', headers: { 'content-type': 'application/json' } })).json()) as { access_token: string }).access_token;
    const account = (await (await fetch(`${started.url}${ACCOUNT}`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } })).json()) as { extra?: string };
    assert.equal(account.extra, 'drift');
  });

  it('refuses a bad fault with its reason and exit code 2', () => {
    const result = runCli(['mock', '--port', '0', '--fault', '{"kind":"skip-rule","rule":"all"}']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--fault .*"rule" must be one of/);
  });
});
