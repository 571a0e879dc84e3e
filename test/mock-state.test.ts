import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Agent, request } from 'undici';
import { certificateId, certificateSerial, type CertificateBundle, type Transaction } from '../mock/domain/model.js';
import { runCliAsync, startCliMock, type StartedMock } from './support/cli.js';
import { checkInvariants } from './support/invariants.js';
import { mockClient, type MockClient } from './support/mock.js';
import { TENANTS } from '../mock/app.js';
import { approvedDevice, eolienAndVolta, idIn, issue, ok } from './support/state.js';

/**
 * `grex-harness mock --state FILE`, as a user runs it: the state survives a
 * stop and a crash (SIGKILL) and the mock continues from it; a write it
 * answered 2xx is in the file, one it did not answer is there whole or not
 * at all.
 */
const scratch = mkdtempSync(join(tmpdir(), 'grex-state-'));
const started: StartedMock[] = [];
after(async () => {
  for (const mock of started) if (mock.child.exitCode === null) mock.child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

async function start(file: string, extra: string[] = []): Promise<StartedMock & { client: MockClient }> {
  const mock = await startCliMock(['--state', file, ...extra]);
  started.push(mock);
  return { ...mock, client: mockClient(mock.url) };
}

async function crash(mock: StartedMock): Promise<void> {
  const exited = once(mock.child, 'exit');
  mock.child.kill('SIGKILL');
  await exited;
}

/** The whole state, without the clock (it runs on with wall time, also while a mock is stopped). */
async function stateOf(mock: MockClient): Promise<Record<string, unknown>> {
  const { clock, ...rest } = ok(await mock.admin('POST', '/__admin/snapshot'));
  assert.match(clock, /^\d{4}-/);
  return rest;
}

/** Reads whose order is built from the state (lists), to compare across a restart as a client sees them. */
async function listsOf(mock: MockClient): Promise<unknown[]> {
  return [
    await mock.readAll('eolien-trader', '/privatereportsapi/AH/privatereportsapi/Certificates'),
    await mock.read('ib-root', '/transactionapi/IB/transactionapi/Transactions?$top=200&$skip=0'),
    await mock.read('eolien-trader', '/transactionapi/AH/transactionapi/ScheduledTransactions?$top=100&$skip=0'),
    await mock.read('eolien-root', '/managementapi/AH/managementapi/Users?$top=100&$skip=0'),
  ];
}

/**
 * One of every kind of write, each answered 2xx: accounts (open, update,
 * lock), a device's life cycle, a user invited, a code updated, metering and
 * issuance requests (approved, rejected, withdrawn), a direct issuance,
 * transfer, export, cancellation, withdrawal, scheduled transfers (one
 * cancelled), B2C grants (a rotated refresh token, an MFA code sent), a
 * firewall violation, fair-use windows, and a day on the clock (expiry,
 * the export confirmed).
 */
async function everyKindOfWrite(mock: MockClient, serial: number): Promise<void> {
  const { issuing, volta } = await eolienAndVolta(mock);
  const opened = ok(await mock.as('eolien-root', 'POST', '/managementapi/AH/managementapi/Accounts', { body: { name: `Kept ${serial}`, standardAssociation: issuing.standardAssociation } }));
  const accountNumber = (/\d{18}/.exec(opened.responseMessage) as RegExpExecArray)[0];
  ok(await mock.as('eolien-root', 'PUT', `/managementapi/AH/managementapi/Accounts/${accountNumber}`, { body: { name: `Kept ${serial} renamed`, parentAccountNumber: null, status: 'Active' } }));
  ok(await mock.as('ib-root', 'PATCH', `/managementapi/IB/managementapi/Accounts/${accountNumber}/Lock`, { body: { locked: true, reason: 'State test' } }));
  ok(await mock.as('eolien-user-administrator', 'POST', '/managementapi/AH/managementapi/Users', { body: { username: `kept.user${serial}`, displayName: 'Kept User', email: `kept${serial}@eolien.example`, roles: ['AH Trader'] } }));
  ok(await mock.as('super-user', 'PUT', '/masterdataapi/IB/masterdataapi/Countries/BE', { body: { name: `Belgium ${serial}`, active: true } }));

  const gsrn = await approvedDevice(mock, issuing, serial);
  const measurementDataId = idIn(
    await mock.as('eolien-pd-administrator', 'POST', '/certificatecreationapi/AH/certificatecreationapi/MeasurementData', { body: { gsrn, periodStart: '2026-10-01', periodEnd: '2026-10-31', volumeMWh: 900 } }),
  );
  const request = (month: string, end: string, extra: object = {}) =>
    mock.as('eolien-pd-administrator', 'POST', '/certificatecreationapi/AH/certificatecreationapi/IssuanceRequests', {
      body: { gsrn, productionPeriodStart: `${month}-01`, productionPeriodEnd: `${month}-${end}`, volumeMWh: 800, ...extra },
    });
  const approved = idIn(await request('2026-10', '31', { measurementDataId }));
  ok(await mock.as('ib-pd-administrator', 'PATCH', `/certificatecreationapi/IB/certificatecreationapi/IssuanceRequests/${approved}`, { body: { decision: 'Approve' } }));
  const rejected = idIn(await request('2026-09', '30'));
  ok(await mock.as('ib-pd-administrator', 'PATCH', `/certificatecreationapi/IB/certificatecreationapi/IssuanceRequests/${rejected}`, { body: { decision: 'Reject', reason: 'Metering to be checked' } }));
  const withdrawn = idIn(await request('2026-08', '31'));
  ok(await mock.as('eolien-pd-administrator', 'DELETE', `/certificatecreationapi/AH/certificatecreationapi/IssuanceRequests/${withdrawn}`));
  const bundle = await issue(mock, gsrn, issuing, '2026-07', 100);

  const range = (offset: number, volume = 1) => {
    const start = (certificateSerial(bundle.startCertificateId) as number) + offset;
    return [{ startCertificateId: certificateId(start), endCertificateId: certificateId(start + volume - 1) }];
  };
  ok(await mock.as('eolien-trader', 'POST', '/transactionapi/AH/transactionapi/Transfers', { body: { fromAccountNumber: issuing.accountNumber, toAccountNumber: volta.accountNumber, bundles: range(0, 3) } }));
  ok(
    await mock.as('eolien-trader', 'POST', '/transactionapi/AH/transactionapi/Exports', {
      body: { fromAccountNumber: issuing.accountNumber, bundles: range(10, 5), destinationDomain: 'BE-VREG', destinationAccountNumber: 'BE000123456' },
    }),
  );
  ok(
    await mock.as('eolien-trader', 'POST', '/transactionapi/AH/transactionapi/Cancellations', {
      body: {
        fromAccountNumber: issuing.accountNumber,
        bundles: range(20, 4),
        beneficiaryName: 'Verrerie Normande SAS',
        beneficiaryCountry: 'FR',
        consumptionPeriodStart: '2026-07-01',
        consumptionPeriodEnd: '2026-07-31',
        purpose: 'SUPPLIER_DISCLOSURE',
        placeOfConsumption: 'Rouen',
      },
    }),
  );
  ok(await mock.as('ib-root', 'POST', '/transactionapi/IB/transactionapi/Withdrawals', { body: { accountNumber: issuing.accountNumber, bundles: range(30, 2), reason: 'State test' } }));
  const now = Date.parse(ok(await mock.admin('GET', '/__admin/clock')).now);
  const item = (offset: number, hours: number) => ({
    fromAccountNumber: issuing.accountNumber,
    toAccountNumber: volta.accountNumber,
    bundles: range(offset),
    executeAt: new Date(now + hours * 3_600_000).toISOString(),
    reference: `state-${serial}-${offset}`,
  });
  ok(await mock.as('eolien-trader', 'POST', '/transactionapi/AH/transactionapi/ScheduledTransactions', { body: [item(40, 2), item(41, 200)] }));
  const filter = encodeURIComponent(`reference eq 'state-${serial}-41'`);
  const [later] = await mock.read('eolien-trader', `/transactionapi/AH/transactionapi/ScheduledTransactions?$top=1&$skip=0&$filter=${filter}`);
  ok(await mock.as('eolien-trader', 'DELETE', `/transactionapi/AH/transactionapi/ScheduledTransactions/${later.scheduledTransactionId}`));

  const granted = ok(await mock.admin('POST', '/__admin/refresh-token', { user: 'eolien-trader' }));
  const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: granted.client_id, scope: granted.scope, refresh_token: granted.refresh_token });
  ok(await mock.request('POST', granted.token_endpoint, { body: form.toString(), contentType: 'application/x-www-form-urlencoded' }));
  await mfaCodeSent(mock);
  const probe = await mock.as('eolien-trader', 'GET', `/masterdataapi/AH/masterdataapi/Countries?$top=1&$skip=0&$filter=${encodeURIComponent("name eq '<script>'")}`);
  assert.equal(probe.status, 403, probe.text);

  ok(await mock.admin('POST', '/__admin/clock', { advance: 'P1D' }));
}

const DEMO = TENANTS.find((tenant) => tenant.name === 'gcrfdemo') as (typeof TENANTS)[number];

/** A browser sign-in up to the MFA step: B2C has "sent" a code, kept until it is used. */
async function mfaCodeSent(mock: MockClient): Promise<void> {
  const query = new URLSearchParams({
    client_id: '9e818394-185c-47e7-8b93-714714bfcf8f',
    response_type: 'code',
    redirect_uri: 'https://gcrfdemo.b2clogin.com/oauth2/nativeclient',
    scope: `https://gcrfdemo.onmicrosoft.com/${DEMO.appId}/user_impersonation openid offline_access`,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  });
  const page = await mock.request('GET', `/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/oauth2/v2.0/authorize?${query}`);
  const tx = (/name="tx" value="([^"]+)"/.exec(page.text) as RegExpExecArray)[1];
  const form = new URLSearchParams({ tx, username: 'soleil-trader', password: 'Grex-Mock-2026!' });
  const mfa = await mock.request('POST', '/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/SelfAsserted', { body: form.toString(), contentType: 'application/x-www-form-urlencoded' });
  assert.match(mfa.text, /id="verificationCode"/);
  ok(await mock.admin('GET', '/__admin/mfa?user=soleil-trader'));
}

describe('mock --state FILE', () => {
  it('keeps everything across a stop and a crash: the state, the lists clients read, the clock', async () => {
    const file = join(scratch, 'kept.db');
    // The firewall blocks a client only after many violations, and fair use counts but does not refuse: the test's own requests must pass.
    const settings = join(scratch, 'kept-settings.json');
    writeFileSync(settings, JSON.stringify({ firewall: { blockAfter: 100 }, fairUse: { limits: [{ requests: 100_000, windowSeconds: 60 }] } }));
    const first = await start(file, ['--config', settings]);
    await everyKindOfWrite(first.client, 1);
    // Lists first: reading counts in the fair-use windows, which the state holds too.
    const lists = await listsOf(first.client);
    const before = await stateOf(first.client);
    const clock = Date.parse(ok(await first.client.admin('GET', '/__admin/clock')).now);
    assert.ok(clock > Date.parse('2026-11-03T07:59:00Z'), 'the clock moved a day');
    const registry = before.registry as { bundles: CertificateBundle[]; transactions: Transaction[] };
    assert.ok(registry.transactions.some((transaction) => transaction.type === 'Export' && transaction.status === 'Completed' && transaction.createdAt > '2026-11-02'), 'the export was confirmed');
    assert.ok((before.fairUse as unknown[]).length > 0 && (before.firewall as { violations: unknown[] }).violations.length > 0);
    await first.stop();

    const second = await start(file, ['--config', settings]);
    assert.match(second.banner, /State: continuing from .*kept\.db \(default profile\)/);
    assert.deepEqual(await stateOf(second.client), before);
    assert.deepEqual(await listsOf(second.client), lists);
    const resumed = Date.parse(ok(await second.client.admin('GET', '/__admin/clock')).now);
    assert.ok(resumed >= clock && resumed < clock + 120_000, 'the clock continues where it was (plus the wall time between)');

    // More writes, then a crash: everything answered is there, fair use and the firewall as of a second before.
    await everyKindOfWrite(second.client, 2);
    const beforeCrash = await stateOf(second.client);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await crash(second);
    const third = await start(file, ['--config', settings]);
    assert.deepEqual(await stateOf(third.client), beforeCrash);
    await checkInvariants(third.client.readAll);
    await third.stop();
  });

  it('SIGKILL during 1,000 concurrent transfers, then a restart: every transfer answered 2xx is there, none half-applied, volumes conserved', async () => {
    const file = join(scratch, 'burst.db');
    const mock = await start(file, ['--fair-use', 'off']);
    const { issuing, volta } = await eolienAndVolta(mock.client);
    const gsrn = await approvedDevice(mock.client, issuing, 3);
    const bundle = await issue(mock.client, gsrn, issuing, '2026-10', 1000);
    const first = certificateSerial(bundle.startCertificateId) as number;
    const token = await mock.client.token('eolien-trader');
    const agent = new Agent({ connections: 1000 });
    const answered = new Map<number, string>();
    const refused: string[] = [];
    let killed: Promise<void> | undefined;
    const transfers = Array.from({ length: 1000 }, async (_, index) => {
      const id = certificateId(first + index);
      try {
        const reply = await request(`${mock.url}/transactionapi/AH/transactionapi/Transfers`, {
          method: 'POST',
          dispatcher: agent,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': 'application/json', 'user-agent': 'state-test' },
          body: JSON.stringify({ fromAccountNumber: issuing.accountNumber, toAccountNumber: volta.accountNumber, bundles: [{ startCertificateId: id, endCertificateId: id }] }),
        });
        const text = await reply.body.text();
        if (reply.statusCode >= 200 && reply.statusCode < 300) answered.set(index, (/[0-9a-f]{8}-[0-9a-f-]{27}/.exec(JSON.parse(text).responseMessage) as RegExpExecArray)[0]);
        else refused.push(`transfer ${index} answered ${reply.statusCode}: ${text}`);
        if (answered.size === 150) killed ??= crash(mock);
      } catch (error) {
        // The connection died with the mock: not answered.
        if (!killed) refused.push(`transfer ${index}: ${(error as Error).message}`);
      }
    });
    await Promise.all(transfers);
    await killed;
    await agent.close();
    assert.deepEqual(refused, []);
    assert.ok(answered.size >= 150 && answered.size < 1000, `the mock died in the middle of the burst (${answered.size} answered)`);

    const restarted = await start(file, ['--fair-use', 'off']);
    const client = restarted.client;
    const moved = (await client.readAll('ib-root', `/transactionapi/IB/transactionapi/Transactions?$filter=${encodeURIComponent(`type eq 'Transfer' and fromAccountNumber eq '${issuing.accountNumber}'`)}`)) as Transaction[];
    const bySerial = new Map(moved.filter((transaction) => transaction.toAccountNumber === volta.accountNumber).map((transaction) => [certificateSerial(transaction.bundles[0].startCertificateId) as number, transaction]));
    for (const [index, transactionId] of answered) {
      assert.equal(bySerial.get(first + index)?.transactionId, transactionId, `transfer ${index}, answered 2xx, is in the file`);
    }
    const filter = encodeURIComponent(`gsrn eq '${gsrn}'`);
    const pieces = (await client.readAll('ib-root', `/privatereportsapi/IB/privatereportsapi/Certificates?$filter=${filter}`)) as CertificateBundle[];
    for (let index = 0; index < 1000; index++) {
      const serial = first + index;
      const holder = pieces.find((piece) => (certificateSerial(piece.startCertificateId) as number) <= serial && (certificateSerial(piece.endCertificateId) as number) >= serial);
      assert.ok(holder, `certificate ${index} is in a bundle`);
      // Whole or not at all: moved with its transaction, or in place without one.
      assert.equal(holder.accountNumber, bySerial.has(serial) ? volta.accountNumber : issuing.accountNumber, `transfer ${index} is whole or absent`);
    }
    assert.ok(bySerial.size >= answered.size);
    await checkInvariants(client.readAll);
    await restarted.stop();
  });

  it('--clock T on a file that holds a state moves the continued clock to T (the banner says so); without --clock the clock continues', async () => {
    const file = join(scratch, 'clock.db');
    const first = await start(file);
    const { issuing } = await eolienAndVolta(first.client);
    const opened = ok(await first.client.as('eolien-root', 'POST', '/managementapi/AH/managementapi/Accounts', { body: { name: 'Kept across --clock', standardAssociation: issuing.standardAssociation } }));
    const accountNumber = (/\d{18}/.exec(opened.responseMessage) as RegExpExecArray)[0];
    await first.stop();

    const moved = await start(file, ['--clock', '2027-03-01T09:00:00Z']);
    assert.match(moved.banner, /State: continuing from .*clock\.db \(default profile\), clock at 2027-03-01T09:00:\d\d(\.\d+)?Z \(set by --clock\)/);
    assert.match(ok(await moved.client.admin('GET', '/__admin/clock')).now, /^2027-03-01T09:0/);
    assert.equal((await moved.client.read('eolien-root', `/managementapi/AH/managementapi/Accounts/${accountNumber}`)).name, 'Kept across --clock');
    await moved.stop();

    const continued = await start(file);
    assert.doesNotMatch(continued.banner, /set by --clock/);
    assert.match(ok(await continued.client.admin('GET', '/__admin/clock')).now, /^2027-03-01T09:0/, 'the clock continues from the file');
    await continued.stop();
  });

  it('a start that cannot listen (the port is taken) exits 1 and leaves no new state file; an existing one stays', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = String((taken.address() as AddressInfo).port);
    try {
      const file = join(scratch, 'never-listened.db');
      for (const extra of [[], ['--scenario', 'locked-account']]) {
        const result = await runCliAsync(['mock', '--port', port, '--state', file, ...extra]);
        assert.equal(result.status, 1, result.stderr);
        assert.match(result.stderr, /EADDRINUSE/);
        for (const suffix of ['', '-wal', '-shm']) assert.equal(existsSync(`${file}${suffix}`), false, `no ${file}${suffix} left behind (${extra.join(' ')})`);
      }
      const kept = join(scratch, 'kept-when-taken.db');
      await (await start(kept)).stop();
      const result = await runCliAsync(['mock', '--port', port, '--state', kept]);
      assert.equal(result.status, 1, result.stderr);
      assert.ok(existsSync(kept), 'a file that held a state is kept');
    } finally {
      taken.close();
    }
  });

  it('a state file or directory it cannot write is refused in one line naming the file and the cause (exit 2)', async () => {
    // Permissions do not bind root: run as nobody then.
    const as = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const shared = mkdtempSync(join(tmpdir(), 'grex-state-modes-'));
    const open = join(shared, 'open');
    const closed = join(shared, 'closed');
    try {
      mkdirSync(open);
      mkdirSync(closed);
      const readOnly = join(open, 'read-only.db');
      await (await start(readOnly)).stop();
      chmodSync(readOnly, 0o444);
      const inClosed = join(closed, 'in-closed.db');
      writeFileSync(inClosed, readFileSync(readOnly));
      chmodSync(inClosed, 0o666);
      for (const [directory, mode] of [[shared, 0o755], [open, 0o777], [closed, 0o555]] as [string, number][]) chmodSync(directory, mode);
      for (const [path, expected] of [
        [readOnly, /^grex-harness mock: .*read-only\.db is not writable \(permission denied\): the mock writes every change to its state file; make it writable, or use another --state file\n$/],
        [inClosed, /^grex-harness mock: .*in-closed\.db: its directory .*closed is not writable \(permission denied\): the state file and its write-ahead log are written there/],
        [join(closed, 'new.db'), /^grex-harness mock: .*new\.db: its directory .*closed is not writable \(permission denied\)/],
        [join(shared, 'missing', 'new.db'), /^grex-harness mock: .*new\.db: no such directory .*missing\n$/],
      ] as [string, RegExp][]) {
        const before = existsSync(path) ? readFileSync(path) : undefined;
        const result = await runCliAsync(['mock', '--port', '0', '--state', path], as);
        assert.equal(result.status, 2, result.stderr);
        assert.match(result.stderr, expected);
        assert.equal(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
        if (before) assert.ok(readFileSync(path).equals(before), `${path} is left as it was`);
        else assert.equal(existsSync(path), false);
      }
    } finally {
      for (const directory of [shared, open, closed]) if (existsSync(directory)) chmodSync(directory, 0o755);
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it('refuses a file it cannot continue from, with one line and exit 2, and reads nothing of it', async () => {
    const file = join(scratch, 'refusals.db');
    const mock = await start(file);
    const busy = await runCliAsync(['mock', '--port', '0', '--state', file]);
    assert.equal(busy.status, 2, busy.stderr);
    assert.match(busy.stderr, /refusals\.db is in use by another process \(another grex-harness mock\?\)/);
    await mock.stop();

    const mismatch = await runCliAsync(['mock', '--port', '0', '--state', file, '--profile', 'large']);
    assert.equal(mismatch.status, 2, mismatch.stderr);
    assert.match(mismatch.stderr, /refusals\.db grew from the default profile, not large: drop --profile, or use another --state file/);

    // An empty value (an unset variable in `--state "$STATE_FILE"`) is a mistake, not a mock in memory that forgets.
    for (const flag of ['--state', '--scenario']) {
      const empty = await runCliAsync(['mock', '--port', '0', flag, '']);
      assert.equal(empty.status, 2, empty.stderr);
      assert.equal(empty.stderr, `grex-harness mock: ${flag} needs a value, got an empty one\n`);
    }

    const edit = (path: string, change: (db: Database.Database) => void): void => {
      const db = new Database(path);
      change(db);
      db.close();
    };
    const copy = (name: string): string => {
      const target = join(scratch, name);
      writeFileSync(target, readFileSync(file));
      return target;
    };
    const newer = copy('newer.db');
    edit(newer, (db) => db.pragma('user_version = 2'));
    const broken = copy('broken.db');
    edit(broken, (db) => db.prepare("UPDATE bundles SET doc = '{\"bundleId\": ' WHERE rowid = (SELECT max(rowid) FROM bundles)").run());
    const hollow = copy('hollow.db');
    edit(hollow, (db) => db.prepare("UPDATE transactions SET doc = 'null' WHERE rowid = 1").run());
    const foreign = join(scratch, 'foreign.db');
    edit(foreign, (db) => db.exec('CREATE TABLE notes (text TEXT)'));
    const text = join(scratch, 'text.db');
    writeFileSync(text, 'not a database at all\n');
    for (const [path, expected] of [
      [newer, /newer\.db was written in state format version 2; this grex-harness reads version 1/],
      [broken, /broken\.db has a damaged record \(bundles, row \d+: .*JSON.*\); nothing of it is used/],
      [hollow, /hollow\.db has a damaged record \(transactions, row 1: not a record with transactionId ".+"\); nothing of it is used/],
      [foreign, /foreign\.db is an SQLite database, but not a grex-harness state file/],
      [text, /text\.db is not a grex-harness state file \(not an SQLite database\)/],
    ] as [string, RegExp][]) {
      const before = readFileSync(path);
      const result = await runCliAsync(['mock', '--port', '0', '--state', path]);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, expected);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'one line, no stack trace');
      assert.ok(readFileSync(path).equals(before), `${path} is left as it was`);
    }
  });
});
