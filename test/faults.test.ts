import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
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

  it('a bad fault in a list is refused with its reason, and none of the list is added', async () => {
    for (const [body, reason] of [
      [{ kind: 'explode' }, /"kind" must be one of/],
      [{ kind: 'set-field', field: 'a' }, /needs a "value"/],
      [{ kind: 'set-field', field: '..', value: 1 }, /dotted path/],
      [{ kind: 'wrong-code', code: 'NOPE_999' }, /response code the contracts define/],
      [{ kind: 'skip-rule', rule: 'everything' }, /"rule" must be one of/],
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
