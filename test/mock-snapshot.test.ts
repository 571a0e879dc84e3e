import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCliAsync, startCliMock } from './support/cli.js';
import { writeDemoContracts } from './support/demo-contracts.js';
import { mockClient, startTestMock, type TestMock } from './support/mock.js';
import { eolienAndVolta, idIn, ok } from './support/state.js';

/**
 * POST /__admin/snapshot and POST /__admin/restore over HTTP, and
 * `grex-harness snapshot save|load`: a snapshot restored gives back exactly
 * the state it was taken from; a malformed or inconsistent document is
 * refused with a list of its problems, and nothing changes.
 */
let mock: TestMock;
const scratch = mkdtempSync(join(tmpdir(), 'grex-snapshot-'));
before(async () => {
  mock = await startTestMock('mock-snapshot');
});
after(async () => {
  assert.equal(mock.app.selfCheckFailures, 0, 'every answer matched the contract');
  await mock.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function snapshot(): Promise<any> {
  const reply = await mock.admin('POST', '/__admin/snapshot');
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  return ok(reply);
}

const withoutClock = ({ clock: _, ...rest }: Record<string, unknown>): Record<string, unknown> => rest;

async function transferOne(offset: number): Promise<string> {
  const { issuing, volta } = await eolienAndVolta(mock);
  const filter = encodeURIComponent(`status eq 'Active' and accountNumber eq '${issuing.accountNumber}'`);
  const [bundle] = await mock.read('eolien-trader', `/privatereportsapi/AH/privatereportsapi/Certificates?$top=1&$skip=${offset}&$filter=${filter}`);
  const range = { startCertificateId: bundle.startCertificateId, endCertificateId: bundle.startCertificateId };
  return idIn(await mock.as('eolien-trader', 'POST', '/transactionapi/AH/transactionapi/Transfers', { body: { fromAccountNumber: issuing.accountNumber, toAccountNumber: volta.accountNumber, bundles: [range] } }));
}

describe('snapshot and restore', () => {
  it('a restored snapshot is the state it was taken from: clock, records, grants; what came after is gone', async () => {
    await transferOne(0);
    ok(await mock.admin('POST', '/__admin/refresh-token', { user: 'volta-trader' }));
    const saved = await snapshot();
    assert.equal(saved.format, 'grex-harness-state');
    assert.equal(saved.version, 1);
    const later = await transferOne(1);
    ok(await mock.admin('POST', '/__admin/clock', { advance: 'P3D' }));
    assert.equal((await mock.as('ib-root', 'GET', `/transactionapi/IB/transactionapi/Transactions/${later}`)).status, 200);

    const restored = ok(await mock.admin('POST', '/__admin/restore', saved));
    assert.equal(restored.restored, true);
    const again = await snapshot();
    assert.deepEqual(withoutClock(again), withoutClock(saved));
    assert.ok(Math.abs(Date.parse(again.clock) - Date.parse(saved.clock)) < 60_000, `clock back at ${saved.clock}: ${again.clock}`);
    const gone = await mock.as('ib-root', 'GET', `/transactionapi/IB/transactionapi/Transactions/${later}`);
    assert.equal(gone.status, 404, gone.text);
    assert.equal(gone.json.responseCode, 'TRANSACTION_001');
  });

  it('a malformed or inconsistent document is refused with its problems; the state stays as it was', async () => {
    ok(await mock.admin('POST', '/__admin/refresh-token', { user: 'volta-trader' }));
    const good = await snapshot();
    const broken = (change: (document: any) => void): any => {
      const copy = structuredClone(good);
      change(copy);
      return copy;
    };
    const [first, second] = good.registry.bundles;
    const cases: [string, unknown, RegExp][] = [
      ['not JSON', '{"format": "grex-harness-state", ', /not valid JSON/],
      ['an empty body', '', /^the body is empty: send a state document \(what POST \/__admin\/snapshot answers\)$/],
      ['no body at all', undefined, /^the body is empty/],
      ['a body of blanks', ' \n', /^the body is empty/],
      ['an array', [good], /a JSON object/],
      ['another format', broken((doc) => (doc.format = 'wiremock-mappings')), /^\/format: must be "grex-harness-state"/],
      ['another version', broken((doc) => (doc.version = 2)), /reads state format version 1; the document is version 2/],
      ['no registry', broken((doc) => delete doc.registry), /must have required property 'registry'/],
      ['a clock that is no instant', broken((doc) => (doc.clock = 'yesterday')), /^\/clock: must match format "date-time"/],
      ['a volume of the wrong type', broken((doc) => (doc.registry.bundles[0].volumeMWh = '12')), /^\/registry\/bundles\/0\/volumeMWh: must be integer/],
      ['a status no contract knows', broken((doc) => (doc.registry.accounts[0].status = 'Frozen')), /^\/registry\/accounts\/0\/status: must be equal to one of the allowed values/],
      ['a volume that is not its range', broken((doc) => (doc.registry.bundles[0].volumeMWh = first.volumeMWh + 1)), /^\/registry\/bundles\/0\/volumeMWh: \d+, but its range holds \d+ certificates/],
      [
        'a certificate in two bundles',
        broken((doc) => Object.assign(doc.registry.bundles[1], { startCertificateId: first.startCertificateId, endCertificateId: first.startCertificateId, volumeMWh: 1 })),
        /^\/registry\/bundles\/\d+: shares certificates with \/registry\/bundles\/\d+/,
      ],
      ['an account of no organisation', broken((doc) => (doc.registry.accounts[0].organizationId = '00000000-0000-4000-8000-000000000000')), /^\/registry\/accounts\/0\/organizationId: .* is not an organisation/],
      ['a transaction id twice', broken((doc) => (doc.registry.transactions[1].transactionId = doc.registry.transactions[0].transactionId)), /^\/registry\/transactions\/1: .* appears twice/],
      ['a refresh token of no user', broken((doc) => (doc.b2c.refreshTokens[0].userId = 'nobody')), /^\/b2c\/refreshTokens\/0\/userId: "nobody" is not a user/],
      ['a field no state document has', broken((doc) => (doc.fairuse = [])), /^\(root\): unknown field "fairuse"/],
      ['a registry field misspelt', broken((doc) => (doc.registry.bundle = [])), /^\/registry: unknown field "bundle"/],
      ['a refresh token twice', broken((doc) => doc.b2c.refreshTokens.push({ ...doc.b2c.refreshTokens[0], userId: doc.registry.users[1].userId })), /^\/b2c\/refreshTokens\/\d+: .* appears twice/],
      ['a fair-use caller twice', broken((doc) => doc.fairUse.push(...[0, 1].map(() => ({ caller: 'twice', times: [], seen: 0, limitedUntil: 0, strikes: 0, blockedUntil: 0 })))), /^\/fairUse\/\d+: "twice" appears twice/],
      ['a bundle of no device', broken((doc) => (doc.registry.bundles[0].gsrn = '643999999999999999')), /^\/registry\/bundles\/0\/gsrn: "643999999999999999" is not a device/],
      ['a refresh token of a tenant the mock has not', broken((doc) => (doc.b2c.refreshTokens[0].tenant = 'contoso')), /^\/b2c\/refreshTokens\/0\/tenant: "contoso" is not a B2C tenant of the mock/],
      ['an account that is its own parent', broken((doc) => (doc.registry.accounts[0].parentAccountNumber = doc.registry.accounts[0].accountNumber)), /^\/registry\/accounts\/0\/parentAccountNumber: the account is its own parent/],
      [
        'two accounts each the parent of the other',
        broken((doc) => {
          const [a, b] = doc.registry.accounts.filter((account: any) => account.organizationId === doc.registry.accounts[0].organizationId);
          [a.parentAccountNumber, b.parentAccountNumber] = [b.accountNumber, a.accountNumber];
        }),
        /^\/registry\/accounts\/\d+\/parentAccountNumber: a cycle of parents \(\d{18} -> \d{18} -> \d{18}\)/,
      ],
      ['a transaction whose volume is not its ranges', broken((doc) => (doc.registry.transactions[0].volumeMWh += 1)), /^\/registry\/transactions\/0\/volumeMWh: \d+, but its ranges hold \d+ certificates/],
      ['a next certificate number no id can hold', broken((doc) => (doc.registry.nextCertificate = 1e30)), /^\/registry\/nextCertificate: must be <= 9007199254740991/],
    ];
    assert.ok(second && good.b2c.refreshTokens.length > 0);
    for (const [what, document, expected] of cases) {
      const reply = await mock.admin('POST', '/__admin/restore', document);
      assert.equal(reply.status, 400, `${what}: ${reply.text}`);
      assert.equal(reply.json.error, 'the document was refused; nothing changed');
      assert.ok(
        (reply.json.problems as string[]).some((problem) => expected.test(problem)),
        `${what}: ${expected} in ${JSON.stringify(reply.json.problems)}`,
      );
      assert.deepEqual(withoutClock(await snapshot()), withoutClock(good), `${what}: the state is unchanged`);
    }
    // The same document, unbroken, is taken: the refusals were the breakage's.
    assert.equal((await mock.admin('POST', '/__admin/restore', good)).status, 200);
  });

  it('a known admin path asked with another method answers 405 with Allow (GET /__admin/snapshot too); an unknown one 404', async () => {
    for (const [method, path, allow] of [
      ['GET', '/__admin/snapshot', 'POST'],
      ['GET', '/__admin/restore', 'POST'],
      ['PUT', '/__admin/snapshot/', 'POST'],
      ['DELETE', '/__admin/clock', 'GET, POST'],
      ['POST', '/__admin/journal', 'GET, DELETE'],
    ]) {
      const reply = await mock.admin(method, path);
      assert.equal(reply.status, 405, `${method} ${path}: ${reply.text}`);
      assert.equal(reply.headers.get('allow'), allow);
      assert.match(reply.json.error, new RegExp(`^${path.replace(/\/$/, '')} takes ${allow.replace(', ', ' or ')}, not ${method}$`));
    }
    const unknown = await mock.admin('GET', '/__admin/snapshots');
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error, /^no admin resource GET \/__admin\/snapshots; see /);
  });

  it("a body over the admin API's limit (256 MiB) is refused in restore's envelope: error and problems, nothing changed", async () => {
    const before = withoutClock(await snapshot());
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const body = new ReadableStream({ pull: (controller) => (sent++ < 257 ? controller.enqueue(chunk) : controller.close()) });
    const reply = await fetch(`${mock.url}/__admin/restore`, { method: 'POST', body, duplex: 'half', headers: { 'content-type': 'application/json' } } as RequestInit);
    assert.equal(reply.status, 413);
    assert.deepEqual(await reply.json(), { error: 'the document was refused; nothing changed', problems: ["the body is over 256 MiB, the admin API's limit"] });
    assert.deepEqual(withoutClock(await snapshot()), before);
  });

  it("a mock serving G-REX's own documents (--contracts) takes its own snapshot back, and still refuses a broken one", async () => {
    const published = join(scratch, 'published');
    writeDemoContracts(published);
    const served = await startCliMock(['--contracts', published]);
    try {
      const client = mockClient(served.url);
      const saved = ok(await client.admin('POST', '/__admin/snapshot'));
      const restored = await client.admin('POST', '/__admin/restore', saved);
      assert.equal(restored.status, 200, restored.text);
      saved.registry.accounts[0].status = 'Frozen';
      const refused = await client.admin('POST', '/__admin/restore', saved);
      assert.equal(refused.status, 400, refused.text);
      assert.match(refused.json.problems[0], /^\/registry\/accounts\/0\/status: must be equal to one of the allowed values/);
    } finally {
      await served.stop();
    }
  });

  it('grex-harness snapshot save|load: a file, refused documents listed (exit 1), bad use (exit 2)', async () => {
    const file = join(scratch, 'saved.json');
    const saved = await runCliAsync(['snapshot', 'save', '--base', mock.url, file]);
    assert.equal(saved.status, 0, saved.stderr);
    assert.match(saved.stdout, /saved\.json: the state of http:\/\/127\.0\.0\.1:\d+ at 20\d\d-/);
    const document = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(withoutClock(document), withoutClock(await snapshot()));

    const later = await transferOne(2);
    const loaded = await runCliAsync(['snapshot', 'load', '--base', mock.url, file]);
    assert.equal(loaded.status, 0, loaded.stderr);
    assert.equal((await mock.as('ib-root', 'GET', `/transactionapi/IB/transactionapi/Transactions/${later}`)).status, 404);

    const bad = join(scratch, 'bad.json');
    document.registry.accounts[0].organizationId = '00000000-0000-4000-8000-000000000000';
    writeFileSync(bad, JSON.stringify(document));
    const before = withoutClock(await snapshot());
    const refused = await runCliAsync(['snapshot', 'load', '--base', mock.url, bad]);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /refused .*bad\.json; its state is unchanged:\n {2}\/registry\/accounts\/0\/organizationId: "00000000-0000-4000-8000-000000000000" is not an organisation/);
    assert.deepEqual(withoutClock(await snapshot()), before);

    for (const [args, expected] of [
      [['snapshot', 'load', '--base', mock.url, join(scratch, 'missing.json')], /missing\.json: no such file/],
      [['snapshot', 'save', '--base', 'http://127.0.0.1:9', file], /no mock answers at http:\/\/127\.0\.0\.1:9/],
      [['snapshot', 'save'], /save needs one FILE: grex-harness snapshot save \[--base URL\] FILE/],
      [['snapshot', 'save', file, 'other.json'], /save needs one FILE/],
      [['snapshot', 'keep', file], /unknown subcommand "keep": save or load/],
      [['snapshot', 'load', '--bsae', mock.url, file], /unknown option '--bsae' \(did you mean --base\?\)/i],
      [['snapshot', 'save', '--base', 'not a url', file], /--base must be the mock's URL/],
    ] as [string[], RegExp][]) {
      const result = await runCliAsync(args);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, expected);
    }
    // A server that is not a mock (another service on the port) answers 200 with something else: the saved file is left as it was.
    const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Dev server</body></html>'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const kept = readFileSync(file);
      const base = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const result = await runCliAsync(['snapshot', 'save', '--base', base, file]);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /^grex-harness snapshot: http:\/\/127\.0\.0\.1:\d+ answered POST \/__admin\/snapshot with no state document \(is it a grex-harness mock\?\); .*saved\.json is unchanged\n$/);
      assert.ok(readFileSync(file).equals(kept), 'the file saved before is left as it was');
    } finally {
      other.close();
    }

    const help = await runCliAsync(['snapshot', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: grex-harness snapshot save \[--base URL\] FILE\n[^]*Usage: grex-harness snapshot load \[--base URL\] FILE\n[^]*Exit codes:\n {2}0 [^]*\n {2}1 {2}the mock refused the document/);
  });
});
