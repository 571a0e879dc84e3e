import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SCENARIOS } from '../fixtures/scenarios/index.js';
import { startMock } from '../mock/server.js';
import { ROOT, runCliAsync, startCliMock, type StartedMock } from './support/cli.js';
import { writeDemoContracts } from './support/demo-contracts.js';
import { mockClient, type MockClient } from './support/mock.js';
import { ok } from './support/state.js';

/**
 * `grex-harness mock --scenario NAME`, as a user starts it: each named
 * situation is there when the mock announces itself, seen through the APIs
 * as a client would see it; a snapshot file is a scenario too.
 */
const scratch = mkdtempSync(join(tmpdir(), 'grex-scenarios-'));
const started: StartedMock[] = [];
after(async () => {
  for (const mock of started) await mock.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function scenario(name: string, extra: string[] = []): Promise<{ mock: StartedMock; client: MockClient }> {
  const mock = await startCliMock(['--scenario', name, ...extra]);
  started.push(mock);
  return { mock, client: mockClient(mock.url) };
}

const eolienAccount = async (client: MockClient, accountNumber: string) => client.read('eolien-trader', `/managementapi/AH/managementapi/Accounts/${accountNumber}`);
const certificatesIn = (banner: string): [string, string] => (/(\d{20})\.\.(\d{20})/.exec(banner) as RegExpExecArray).slice(1, 3) as [string, string];
const advance = async (client: MockClient, duration: string) => ok(await client.admin('POST', '/__admin/clock', { advance: duration }));
const journalSize = async (client: MockClient): Promise<number> => ok(await client.admin('GET', '/__admin/health')).journal.size;

describe('mock --scenario', () => {
  it('the list in --help is the list of scenarios, each documented in fixtures/scenarios/README.md', async () => {
    const help = await runCliAsync(['mock', '--help']);
    for (const { name } of SCENARIOS) assert.match(help.stdout, new RegExp(`\\n\\s+${name}\\n`));
    const readme = readFileSync(join(ROOT, 'fixtures', 'scenarios', 'README.md'), 'utf8');
    for (const { name } of SCENARIOS) assert.match(readme, new RegExp(`^## \`${name}\``, 'm'));
  });

  it('fair-use-edge: one request left in the minute, then 429 FAIRUSE_001', async () => {
    const journal = join(scratch, 'edge.ndjson');
    const { mock, client } = await scenario('fair-use-edge', ['--journal-file', journal]);
    assert.match(mock.banner, /Éolien du Ponant SA \(.+\) has sent 99 of its 100 requests per 60 s/);
    assert.equal(await journalSize(client), 0, 'the scenario left no traffic in the journal');
    assert.equal(readFileSync(journal, 'utf8'), '', 'nor in the journal file');
    const send = () => client.as('eolien-trader', 'GET', '/masterdataapi/AH/masterdataapi/Countries?$top=1&$skip=0');
    assert.equal((await send()).status, 200);
    const refused = await send();
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.json.responseCode, 'FAIRUSE_001');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal(await journalSize(client), 2, "the client's own requests are journaled");
    // Another account holder is not limited: the edge is Éolien's only.
    assert.equal((await client.as('volta-trader', 'GET', '/masterdataapi/AH/masterdataapi/Countries?$top=1&$skip=0')).status, 200);
  });

  it('expired-and-cancelled: the morning after an expiry, the expired bundles and a fresh cancellation with its statement', async () => {
    const { mock, client } = await scenario('expired-and-cancelled');
    const [, at, day] = /clock set to (\S+): \d+ bundle\(s\) of Éolien du Ponant that expired on (\d{4}-\d{2}-\d{2})/.exec(mock.banner) as RegExpExecArray;
    assert.equal(ok(await client.admin('GET', '/__admin/clock')).now.slice(0, 10), at.slice(0, 10));
    const expired = await client.readAll('eolien-trader', `/privatereportsapi/AH/privatereportsapi/Certificates?$filter=${encodeURIComponent(`status eq 'Expired' and expiryDate eq ${day}`)}`);
    assert.ok(expired.length > 0, 'the bundles that expired that day are Expired');
    const expiries = await client.read('eolien-trader', `/transactionapi/AH/transactionapi/Transactions?$top=500&$skip=0&$filter=${encodeURIComponent("type eq 'Expiry'")}`);
    assert.ok(expiries.some((transaction: { createdAt: string }) => transaction.createdAt.startsWith(at.slice(0, 10))), 'Expiry transactions of the day');
    const [start, end] = certificatesIn(mock.banner);
    const cancelled = await client.read('eolien-trader', `/privatereportsapi/AH/privatereportsapi/Certificates?$top=5&$skip=0&$filter=${encodeURIComponent(`status eq 'Cancelled'`)}&$orderby=issuingDate desc`);
    assert.ok(cancelled.some((bundle: { startCertificateId: string; endCertificateId: string }) => bundle.startCertificateId === start && bundle.endCertificateId === end));
    const statements = await client.read('eolien-trader', '/privatereportsapi/AH/privatereportsapi/CancellationStatements?$top=500&$skip=0');
    assert.ok(statements.some((statement: { beneficiaryName: string; certificates: { startCertificateId: string }[] }) => statement.beneficiaryName === 'Verrerie Normande SAS' && statement.certificates.some((range) => range.startCertificateId === start)));
  });

  it('locked-account: the account is locked and moving its certificates is refused; with --state, a restart keeps it so', async () => {
    const file = join(scratch, 'locked.db');
    const { mock, client } = await scenario('locked-account', ['--state', file]);
    const accountNumber = (/account (\d{18}) /.exec(mock.banner) as RegExpExecArray)[1];
    assert.equal((await eolienAccount(client, accountNumber)).isLocked, true);
    const [start, end] = certificatesIn(mock.banner);
    const volta = (await client.read('volta-trader', '/managementapi/AH/managementapi/Accounts?$top=1&$skip=0'))[0].accountNumber;
    const transfer = await client.as('eolien-trader', 'POST', '/transactionapi/AH/transactionapi/Transfers', {
      body: { fromAccountNumber: accountNumber, toAccountNumber: volta, bundles: [{ startCertificateId: start, endCertificateId: end }] },
    });
    assert.equal(transfer.status, 400, transfer.text);
    assert.equal(transfer.json.responseCode, 'TRANSACTION_028');
    await mock.stop();

    // The same command again: the file holds a state, so it continues (the lock kept) and says the scenario was not applied.
    const again = await scenario('locked-account', ['--state', file]);
    assert.match(again.mock.banner, /--scenario locked-account not applied: the state file already holds a state/);
    assert.equal((await eolienAccount(again.client, accountNumber)).isLocked, true);
  });

  it("locked-account on a mock serving G-REX's own documents (--contracts, the account's name renamed): the banner names the account", async () => {
    const published = join(scratch, 'published');
    writeDemoContracts(published);
    const { mock, client } = await scenario('locked-account', ['--contracts', published]);
    const [, accountNumber, name] = /account (\d{18}) \("([^"]*)"\)/.exec(mock.banner) as RegExpExecArray;
    const served = await eolienAccount(client, accountNumber);
    assert.equal(served.isLocked, true);
    assert.equal(name, served.accountName, 'the name G-REX\'s document calls accountName');
  });

  it('pending-export: Pending with Reserved certificates, Completed and Exported five minutes later on the clock', async () => {
    const { mock, client } = await scenario('pending-export');
    const transactionId = (/export ([0-9a-f-]{36})/.exec(mock.banner) as RegExpExecArray)[1];
    const path = `/transactionapi/AH/transactionapi/Transactions/${transactionId}`;
    assert.equal((await client.read('eolien-trader', path)).status, 'Pending');
    const [start] = certificatesIn(mock.banner);
    const status = async (): Promise<string | undefined> =>
      (await client.readAll('eolien-trader', '/privatereportsapi/AH/privatereportsapi/Certificates')).find((bundle: { startCertificateId: string }) => bundle.startCertificateId === start)?.status;
    assert.equal(await status(), 'Reserved');
    await advance(client, 'PT5M');
    assert.equal((await client.read('eolien-trader', path)).status, 'Completed');
    assert.equal(await status(), 'Exported');
  });

  it('scheduled-transfer-due: Scheduled a minute ahead, Completed once the minute has passed', async () => {
    const { mock, client } = await scenario('scheduled-transfer-due');
    const id = (/scheduled transfer ([0-9a-f-]{36})/.exec(mock.banner) as RegExpExecArray)[1];
    const path = `/transactionapi/AH/transactionapi/ScheduledTransactions/${id}`;
    const item = await client.read('eolien-trader', path);
    assert.equal(item.status, 'Scheduled');
    const now = Date.parse(ok(await client.admin('GET', '/__admin/clock')).now);
    const due = Date.parse(item.executeAt) - now;
    assert.ok(due > 0 && due <= 60_000, `due in ${due} ms`);
    await advance(client, 'PT1M');
    const done = await client.read('eolien-trader', path);
    assert.equal(done.status, 'Completed', JSON.stringify(done));
    assert.equal((await client.read('volta-trader', `/transactionapi/AH/transactionapi/Transactions/${done.transactionId}`)).type, 'Transfer');
  });

  it("each scenario's snapshot passes restore's checks: the situations are consistent documents", async () => {
    for (const { name } of SCENARIOS) {
      const running = await startMock({ port: 0, host: '127.0.0.1', scenario: name });
      try {
        const client = mockClient(running.url);
        const restored = await client.admin('POST', '/__admin/restore', ok(await client.admin('POST', '/__admin/snapshot')));
        assert.equal(restored.status, 200, `${name}: ${restored.text}`);
      } finally {
        await running.close();
      }
    }
  });

  it('a snapshot file is a scenario; an unknown name or a refused file stops the start with exit 2', async () => {
    const { client: source } = await scenario('locked-account');
    const file = join(scratch, 'locked.json');
    const saved = await runCliAsync(['snapshot', 'save', '--base', started.at(-1)?.url as string, file]);
    assert.equal(saved.status, 0, saved.stderr);
    const { mock, client } = await scenario(file);
    assert.match(mock.banner, /Scenario .*locked\.json: the state of the snapshot/);
    const strip = ({ clock: _, ...rest }: Record<string, unknown>) => rest;
    assert.deepEqual(strip(ok(await client.admin('POST', '/__admin/snapshot'))), strip(ok(await source.admin('POST', '/__admin/snapshot'))));

    const unknown = await runCliAsync(['mock', '--port', '0', '--scenario', 'sunny-day']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, new RegExp(`no scenario "sunny-day"; the scenarios are ${SCENARIOS.map((known) => known.name).join(', ')}`));
    const bad = join(scratch, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'grex-harness-state', version: 1 }));
    const refused = await runCliAsync(['mock', '--port', '0', '--scenario', bad]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /bad\.json is not a state the mock can start from:\n {2}\(root\): must have required property 'clock'/);
    // A file that is not JSON (the parser quotes it, new lines and all), or empty, or missing: one line naming it.
    const notJson = join(scratch, 'notes.json');
    writeFileSync(notJson, 'locked\nno\n');
    const empty = join(scratch, 'empty.json');
    writeFileSync(empty, '');
    for (const [path, expected] of [
      [notJson, /^grex-harness mock: .*notes\.json is not JSON \(Unexpected token .*\): a scenario file is a snapshot \(grex-harness snapshot save FILE\)\n$/],
      [empty, /^grex-harness mock: .*empty\.json is empty: a scenario file is a snapshot/],
      [join(scratch, 'missing.json'), /^grex-harness mock: .*missing\.json: no such file\n$/],
    ] as [string, RegExp][]) {
      const result = await runCliAsync(['mock', '--port', '0', '--scenario', path]);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, expected);
      assert.equal(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
    }
    const off = await runCliAsync(['mock', '--port', '0', '--scenario', 'fair-use-edge', '--fair-use', 'off']);
    assert.equal(off.status, 2);
    assert.match(off.stderr, /fair-use-edge needs fair use on: drop --fair-use off/);
  });
});
