import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { shiftMonth } from '../mock/domain/calendar.js';
import { certificateSerial, gsrnCheckDigit, type Account, type CertificateBundle, type ProductionDevice, type Transaction } from '../mock/domain/model.js';
import { expectCode, startTestMock, type Reply, type TestMock } from './support/mock.js';

/**
 * The Private Reports API v1 and the Public Reports API v1 over HTTP: every
 * operation's success and each code its contract documents, and the reports
 * checked against the registry's bundles and transactions (read through the
 * same APIs) before and after writes of the other APIs.
 */

const P = '/privatereportsapi/AH/privatereportsapi';
const I = '/privatereportsapi/IB/privatereportsapi';
const U = '/publicreportsapi/publicreportsapi';
const UNKNOWN_ID = '0b7f3c1e-5d2a-4c8b-9e6f-1a2b3c4d5e6f';
const UNKNOWN_ACCOUNT = '643099000000000001';

let mock: TestMock;
before(async () => {
  mock = await startTestMock('mock-reports');
});
after(() => mock?.close());

/** Every report is a GET. */
const as = (username: string | null, path: string, headers?: Record<string, string>): Promise<Reply> => mock.as(username, 'GET', path, { headers });
const read = (username: string | null, path: string) => mock.read(username, path);
const readAll = (username: string | null, path: string) => mock.readAll(username, path);

const q = (text: string): string => encodeURIComponent(text);
const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);
const volumeOf = (bundles: CertificateBundle[], status?: string): number => sum(bundles.filter((bundle) => !status || bundle.status === status).map((bundle) => bundle.volumeMWh));
const descending = (values: string[]): boolean => values.every((value, i) => i === 0 || values[i - 1] >= value);
const ascending = (values: string[]): boolean => values.every((value, i) => i === 0 || values[i - 1] <= value);
const reset = () => mock.admin('POST', '/__admin/reset');

// Subjects are picked from the registry by what they are, and copied.
const registry = () => mock.app.registry;
const orgOf = (username: string): string => (registry().usersByName.get(username) as { organizationId: string }).organizationId;
const accountsOf = (username: string): Account[] => structuredClone(registry().accountsOf(orgOf(username)));
const holding = (username: string): Account => accountsOf(username).find((account) => registry().bundlesIn(account.accountNumber).some((bundle) => bundle.status === 'Active')) as Account;
const statementOf = (username: string): string => {
  const accounts = new Set(accountsOf(username).map((account) => account.accountNumber));
  return [...registry().cancellations.values()].find((cancellation) => accounts.has(cancellation.accountNumber))?.statementId as string;
};
const thisMonth = (): string => registry().today().slice(0, 7);

describe('every private operation: 401 without a token, 403 AUTH_003 for a role the permission table does not list', () => {
  const operations: [string, string][] = [
    [`${P}/Certificates?$top=10`, 'soleil-pd-viewer'],
    [`${P}/Certificates/${UNKNOWN_ID}`, 'soleil-user-administrator'],
    [`${P}/AccountBalances`, 'soleil-pd-administrator'],
    [`${P}/TransactionHistory`, 'soleil-cancellation-statement-viewer'],
    [`${P}/CancellationStatements`, 'soleil-pd-viewer'],
    [`${P}/CancellationStatements/${UNKNOWN_ID}`, 'soleil-user-administrator'],
    [`${P}/ExpiringCertificates`, 'soleil-pd-viewer'],
    [`${I}/DomainStatistics`, 'ib-pd-viewer'],
    [`${I}/ProductionDevices`, 'ib-ah-viewer'],
    [`${I}/Certificates?$top=10`, 'ib-pd-administrator'],
    [`${I}/CancellationStatements`, 'soleil-root'],
    [`${I}/CancellationStatements/${UNKNOWN_ID}`, 'ib-ah-viewer'],
  ];

  it('401 AUTH_001 without a token', async () => {
    for (const [path] of operations) expectCode(await as(null, path), 401, 'AUTH_001');
  });

  it('403 AUTH_003 for a user without a granted role (every AH user on /IB/)', async () => {
    for (const [path, username] of operations) expectCode(await as(username, path), 403, 'AUTH_003');
    for (const path of [`${I}/DomainStatistics`, `${I}/ProductionDevices`, `${I}/Certificates?$top=1`]) expectCode(await as('soleil-root', path), 403, 'AUTH_003');
  });
});

describe('query validation: _002 for malformed parameters, _014 for a $top above 500, _010 for a period that ends before it starts', () => {
  const malformed: [string | null, string, string][] = [
    ['soleil-root', `${P}/Certificates?$top=10&accountNumber=12345`, 'REPORT_002'],
    ['soleil-root', `${P}/Certificates/not-a-uuid`, 'REPORT_002'],
    ['soleil-root', `${P}/AccountBalances?technologyCode=wind`, 'REPORT_002'],
    ['soleil-root', `${P}/TransactionHistory?from=yesterday`, 'REPORT_002'],
    ['soleil-root', `${P}/CancellationStatements?$filter=${q("colour eq 'green'")}`, 'REPORT_002'],
    ['soleil-root', `${P}/CancellationStatements/not-a-uuid`, 'REPORT_002'],
    ['soleil-root', `${P}/ExpiringCertificates?days=366`, 'REPORT_002'],
    ['ib-root', `${I}/DomainStatistics?from=2026-13`, 'REPORT_002'],
    ['ib-root', `${I}/ProductionDevices?$orderby=colour`, 'REPORT_002'],
    ['ib-root', `${I}/Certificates?$top=10&$skip=-1`, 'REPORT_002'],
    ['ib-root', `${I}/CancellationStatements?accountNumber=abc`, 'REPORT_002'],
    ['ib-root', `${I}/CancellationStatements/42`, 'REPORT_002'],
    [null, `${U}/AccountHolders?$filter=${q("colour eq 'green'")}`, 'PUBLICREPORT_002'],
    [null, `${U}/ProductionDevices?energySourceCode=wind`, 'PUBLICREPORT_002'],
    [null, `${U}/ProductionDevices/12345`, 'PUBLICREPORT_002'],
    [null, `${U}/IssuedVolumes?groupBy=plant`, 'PUBLICREPORT_002'],
    [null, `${U}/CancelledVolumes?from=2025-3`, 'PUBLICREPORT_002'],
    [null, `${U}/ExpiredVolumes?$skip=-1`, 'PUBLICREPORT_002'],
    [null, `${U}/AuctionResults?technologyCode=T1`, 'PUBLICREPORT_002'],
  ];

  it('_002 for a malformed parameter, on every operation', async () => {
    for (const [username, path, responseCode] of malformed) expectCode(await as(username, path), 400, responseCode);
  });

  it('REPORT_002 (not _014) for a missing or zero $top where it is mandatory, naming it', async () => {
    for (const [username, path] of [['soleil-root', `${P}/Certificates`], ['ib-root', `${I}/Certificates?$top=0`]]) {
      const reply = await as(username, path);
      expectCode(reply, 400, 'REPORT_002');
      assert.match(reply.json.responseMessage, /Error in: \$top\./);
    }
  });

  it('PUBLICREPORT_002 for a region that is not one of metropolitan France’s', async () => {
    const reply = await as(null, `${U}/AuctionResults?region=Atlantis`);
    expectCode(reply, 400, 'PUBLICREPORT_002');
    assert.match(reply.json.responseMessage, /Error in: region\./);
  });

  it('_014 for a $top above 500, on every operation that documents it', async () => {
    const cases: [string | null, string, string][] = [
      ['soleil-root', `${P}/Certificates`, 'REPORT_014'],
      ['soleil-root', `${P}/AccountBalances`, 'REPORT_014'],
      ['soleil-root', `${P}/TransactionHistory`, 'REPORT_014'],
      ['soleil-root', `${P}/CancellationStatements`, 'REPORT_014'],
      ['soleil-root', `${P}/ExpiringCertificates`, 'REPORT_014'],
      ['ib-root', `${I}/DomainStatistics`, 'REPORT_014'],
      ['ib-root', `${I}/ProductionDevices`, 'REPORT_014'],
      ['ib-root', `${I}/Certificates`, 'REPORT_014'],
      ['ib-root', `${I}/CancellationStatements`, 'REPORT_014'],
      [null, `${U}/AccountHolders`, 'PUBLICREPORT_014'],
      [null, `${U}/ProductionDevices`, 'PUBLICREPORT_014'],
      [null, `${U}/IssuedVolumes`, 'PUBLICREPORT_014'],
      [null, `${U}/CancelledVolumes`, 'PUBLICREPORT_014'],
      [null, `${U}/ExpiredVolumes`, 'PUBLICREPORT_014'],
      [null, `${U}/AuctionResults`, 'PUBLICREPORT_014'],
    ];
    for (const [username, path, responseCode] of cases) expectCode(await as(username, `${path}?$top=501`), 400, responseCode);
  });

  it('_010 for `from` after `to`, naming both, before the account is looked at', async () => {
    const cases: [string | null, string, string, string, string][] = [
      ['soleil-root', `${P}/TransactionHistory?accountNumber=${UNKNOWN_ACCOUNT}`, '2026-05-02', '2026-05-01', 'REPORT_010'],
      ['soleil-root', `${P}/CancellationStatements`, '2026-05-02', '2026-05-01', 'REPORT_010'],
      ['ib-root', `${I}/CancellationStatements?accountNumber=${UNKNOWN_ACCOUNT}`, '2026-01-01', '2025-12-31', 'REPORT_010'],
      ['ib-root', `${I}/DomainStatistics`, '2026-02', '2026-01', 'REPORT_010'],
      [null, `${U}/IssuedVolumes`, '2026-02', '2026-01', 'PUBLICREPORT_010'],
      [null, `${U}/CancelledVolumes`, '2026-02', '2026-01', 'PUBLICREPORT_010'],
      [null, `${U}/ExpiredVolumes`, '2026-02', '2026-01', 'PUBLICREPORT_010'],
      [null, `${U}/AuctionResults`, '2026-02', '2026-01', 'PUBLICREPORT_010'],
    ];
    for (const [username, path, from, to, responseCode] of cases) {
      const reply = await as(username, `${path}${path.includes('?') ? '&' : '?'}from=${from}&to=${to}`);
      expectCode(reply, 400, responseCode);
      assert.ok(reply.json.responseMessage.includes(from) && reply.json.responseMessage.includes(to), reply.json.responseMessage);
    }
  });
});

describe('account scope: 404 REPORT_001 for an unknown account, 403 REPORT_003 for another organisation’s', () => {
  const byAccount = [`${P}/Certificates?$top=10&`, `${P}/AccountBalances?`, `${P}/TransactionHistory?`, `${P}/CancellationStatements?`, `${P}/ExpiringCertificates?`];

  it('on every account holder report that takes accountNumber', async () => {
    const theirs = holding('eolien-root').accountNumber;
    for (const path of byAccount) {
      const unknown = await as('soleil-root', `${path}accountNumber=${UNKNOWN_ACCOUNT}`);
      expectCode(unknown, 404, 'REPORT_001');
      assert.match(unknown.json.responseMessage, new RegExp(`Account number: ${UNKNOWN_ACCOUNT}`));
      const foreign = await as('soleil-root', `${path}accountNumber=${theirs}`);
      expectCode(foreign, 403, 'REPORT_003');
      assert.match(foreign.json.responseMessage, new RegExp(theirs));
    }
  });

  it('for the issuing body every account of the domain is in scope; only an unknown one is 404', async () => {
    expectCode(await as('ib-cancellation-statement-viewer', `${I}/CancellationStatements?accountNumber=${UNKNOWN_ACCOUNT}`), 404, 'REPORT_001');
    const theirs = holding('eolien-root').accountNumber;
    const statements = await read('ib-cancellation-statement-viewer', `${I}/CancellationStatements?accountNumber=${theirs}`);
    assert.ok(statements.every((statement: { accountNumber: string }) => statement.accountNumber === theirs));
  });

  it('Certificates/{bundleId} and CancellationStatements/{statementId}: 404 REPORT_001 unknown, 403 REPORT_003 another organisation’s', async () => {
    const foreignBundle = registry().bundlesIn(holding('eolien-root').accountNumber)[0].bundleId;
    expectCode(await as('soleil-trader', `${P}/Certificates/${UNKNOWN_ID}`), 404, 'REPORT_001');
    expectCode(await as('soleil-trader', `${P}/Certificates/${foreignBundle}`), 403, 'REPORT_003');
    expectCode(await as('soleil-trader', `${P}/CancellationStatements/${UNKNOWN_ID}`), 404, 'REPORT_001');
    expectCode(await as('soleil-trader', `${P}/CancellationStatements/${statementOf('eolien-root')}`), 403, 'REPORT_003');
    expectCode(await as('ib-root', `${I}/CancellationStatements/${UNKNOWN_ID}`), 404, 'REPORT_001');
  });
});

describe('account holder reports: the own organisation’s data only', () => {
  before(reset);

  it('ahGetCertificates: every bundle of the own accounts, newest issuance first, paged; a filter never reaches further', async () => {
    const own = new Set(accountsOf('soleil-account-viewer').map((account) => account.accountNumber));
    const all: CertificateBundle[] = await readAll('soleil-account-viewer', `${P}/Certificates`);
    assert.equal(all.length, [...own].flatMap((accountNumber) => registry().bundlesIn(accountNumber)).length);
    assert.ok(all.every((bundle) => own.has(bundle.accountNumber)));
    assert.ok(descending(all.map((bundle) => bundle.issuingDate)));
    assert.ok(new Set(all.map((bundle) => bundle.status)).size >= 3);
    const page: CertificateBundle[] = await read('soleil-account-viewer', `${P}/Certificates?$top=5&$skip=5`);
    assert.deepEqual(page.map((bundle) => bundle.bundleId), all.slice(5, 10).map((bundle) => bundle.bundleId));
    const account = holding('soleil-root').accountNumber;
    const one: CertificateBundle[] = await read('soleil-trader', `${P}/Certificates?$top=500&accountNumber=${account}`);
    assert.deepEqual(one.map((bundle) => bundle.bundleId), all.filter((bundle) => bundle.accountNumber === account).map((bundle) => bundle.bundleId));
    const active: CertificateBundle[] = await read('soleil-trader', `${P}/Certificates?$top=500&$filter=${q("status eq 'Active'")}`);
    assert.equal(active.length, all.filter((bundle) => bundle.status === 'Active').length);
    assert.deepEqual(await read('soleil-trader', `${P}/Certificates?$top=10&$filter=${q(`accountNumber eq '${holding('eolien-root').accountNumber}'`)}`), []);
  });

  it('ahGetCertificate: one bundle, as the list shows it', async () => {
    const [first]: CertificateBundle[] = await read('soleil-root', `${P}/Certificates?$top=1`);
    assert.deepEqual(await read('soleil-account-administrator', `${P}/Certificates/${first.bundleId}`), first);
  });

  it('ahGetAccountBalances: the Active and Reserved volumes of the certificates, per account and technology', async () => {
    const bundles: CertificateBundle[] = await readAll('soleil-root', `${P}/Certificates`);
    const rows = await read('soleil-account-viewer', `${P}/AccountBalances`);
    assert.ok(rows.length > 0);
    const expected = new Map<string, { active: number; reserved: number }>();
    for (const bundle of bundles.filter((item) => item.status === 'Active' || item.status === 'Reserved')) {
      const key = `${bundle.accountNumber} ${bundle.technologyCode}`;
      const row = expected.get(key) ?? { active: 0, reserved: 0 };
      if (bundle.status === 'Active') row.active += bundle.volumeMWh;
      else row.reserved += bundle.volumeMWh;
      expected.set(key, row);
    }
    assert.deepEqual(
      new Map(rows.map((row: any) => [`${row.accountNumber} ${row.technologyCode}`, { active: row.activeVolumeMWh, reserved: row.reservedVolumeMWh }])),
      expected,
    );
    assert.ok(ascending(rows.map((row: any) => `${row.accountNumber} ${row.technologyCode}`)));
    const names = new Map(accountsOf('soleil-root').map((account) => [account.accountNumber, account.name]));
    assert.ok(rows.every((row: any) => row.accountName === names.get(row.accountNumber)));
    const solar = await read('soleil-account-viewer', `${P}/AccountBalances?technologyCode=T010000&accountNumber=${rows[0].accountNumber}`);
    assert.ok(solar.every((row: any) => row.technologyCode === 'T010000' && row.accountNumber === rows[0].accountNumber));
  });

  it('ahGetTransactionHistory: what touched the own accounts, newest first, narrowed by account and dates', async () => {
    const own = new Set(accountsOf('soleil-root').map((account) => account.accountNumber));
    const all: Transaction[] = await readAll('soleil-trader', `${P}/TransactionHistory`);
    assert.ok(all.length > 0);
    assert.ok(all.every((transaction) => own.has(transaction.fromAccountNumber ?? '') || own.has(transaction.toAccountNumber ?? '')));
    assert.ok(descending(all.map((transaction) => transaction.createdAt)));
    const touching = [...registry().transactions.values()].filter((transaction) => own.has(transaction.fromAccountNumber ?? '') || own.has(transaction.toAccountNumber ?? ''));
    assert.equal(all.length, touching.length);
    const day = all[Math.floor(all.length / 2)].createdAt.slice(0, 10);
    const thatDay: Transaction[] = await read('soleil-trader', `${P}/TransactionHistory?from=${day}&to=${day}`);
    assert.deepEqual(thatDay.map((transaction) => transaction.transactionId), all.filter((transaction) => transaction.createdAt.startsWith(day)).map((transaction) => transaction.transactionId));
    const account = holding('soleil-root').accountNumber;
    const one: Transaction[] = await readAll('soleil-trader', `${P}/TransactionHistory?accountNumber=${account}`);
    assert.ok(one.length > 0 && one.every((transaction) => transaction.fromAccountNumber === account || transaction.toAccountNumber === account));
  });

  it('ahGetCancellationStatements and ahGetCancellationStatement: the own statements, each attesting its Cancelled certificates', async () => {
    const own = new Set(accountsOf('soleil-root').map((account) => account.accountNumber));
    const statements = await readAll('soleil-cancellation-statement-viewer', `${P}/CancellationStatements`);
    assert.ok(statements.length > 0);
    assert.ok(statements.every((statement: any) => own.has(statement.accountNumber)));
    assert.ok(descending(statements.map((statement: any) => statement.cancelledAt)));
    const cancelled = new Map((await readAll('soleil-root', `${P}/Certificates?$filter=${q("status eq 'Cancelled'")}`)).map((bundle: CertificateBundle) => [bundle.startCertificateId, bundle]));
    for (const statement of statements) {
      assert.equal(statement.volumeMWh, sum(statement.certificates.map((range: any) => range.volumeMWh)));
      for (const range of statement.certificates) {
        const bundle = cancelled.get(range.startCertificateId) as CertificateBundle;
        assert.ok(bundle, `statement ${statement.statementId}: ${range.startCertificateId} is not a Cancelled bundle of the account`);
        assert.equal(bundle.endCertificateId, range.endCertificateId);
        assert.equal(range.productionPeriodStart.slice(0, 7), statement.consumptionPeriodStart.slice(0, 7));
        assert.equal(range.volumeMWh, certificateSerial(range.endCertificateId)! - certificateSerial(range.startCertificateId)! + 1);
      }
    }
    const [newest] = statements;
    assert.deepEqual(await read('soleil-cancellation-statement-viewer', `${P}/CancellationStatements/${newest.statementId}`), newest);
    const day = newest.cancelledAt.slice(0, 10);
    const thatDay = await read('soleil-root', `${P}/CancellationStatements?from=${day}&to=${day}`);
    assert.ok(thatDay.some((statement: any) => statement.statementId === newest.statementId));
    assert.ok(thatDay.every((statement: any) => statement.cancelledAt.startsWith(day)));
  });

  it('ahGetExpiringCertificates: usable bundles expiring within `days` days (default 30), soonest first', async () => {
    const today = registry().today();
    const last = (days: number) => new Date(Date.parse(`${today}T00:00:00Z`) + (days - 1) * 86_400_000).toISOString().slice(0, 10);
    const bundles: CertificateBundle[] = await readAll('soleil-root', `${P}/Certificates`);
    for (const [query, days] of [['', 30], ['?days=365', 365], ['?days=1', 1]] as const) {
      const expiring: CertificateBundle[] = await read('soleil-account-viewer', `${P}/ExpiringCertificates${query}${query ? '&' : '?'}$top=500`);
      const expected = bundles.filter((bundle) => (bundle.status === 'Active' || bundle.status === 'Reserved') && bundle.expiryDate >= today && bundle.expiryDate <= last(days));
      assert.deepEqual(new Set(expiring.map((bundle) => bundle.bundleId)), new Set(expected.map((bundle) => bundle.bundleId)), query);
      assert.ok(ascending(expiring.map((bundle) => bundle.expiryDate)));
    }
    assert.ok((await read('soleil-root', `${P}/ExpiringCertificates?days=365`)).length > 0);
  });
});

describe('cancellation statements as JSON or PDF: Accept decides; 406 REPORT_015 when it allows neither', () => {
  const statementPath = (base: string, id: string) => `${base}/CancellationStatements/${id}`;

  /** The document's bytes (not decoded as text): a PDF is binary. */
  async function download(username: string, path: string, accept: string): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
    const response = await fetch(`${mock.url}${path}`, { headers: { authorization: `Bearer ${await mock.token(username)}`, accept } });
    return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
  }

  /** A PDF 1.4 file whose cross-reference table points at its objects and whose streams are as long as they say. */
  function assertPdf(bytes: Buffer): string {
    const text = bytes.toString('latin1');
    assert.ok(text.startsWith('%PDF-1.4\n'));
    const tail = /startxref\n(\d+)\n%%EOF\n$/.exec(text);
    assert.ok(tail, 'startxref and %%EOF end the file');
    const xref = Number(tail[1]);
    assert.ok(text.startsWith('xref\n', xref));
    const offsets = [...text.slice(xref).matchAll(/^(\d{10}) 00000 n $/gm)].map((match) => Number(match[1]));
    assert.ok(offsets.length >= 6);
    offsets.forEach((offset, index) => assert.ok(text.startsWith(`${index + 1} 0 obj\n`, offset), `object ${index + 1} is at ${offset}`));
    for (const match of text.matchAll(/<< \/Length (\d+) >>\nstream\n/g)) {
      const start = (match.index as number) + match[0].length;
      assert.ok(text.startsWith('\nendstream', start + Number(match[1])));
    }
    return text;
  }

  it('200: JSON by default, for */*, for application/*; the same statement for the issuing body', async () => {
    const id = statementOf('soleil-root');
    const json = await read('soleil-cancellation-statement-viewer', statementPath(P, id));
    for (const accept of ['*/*', 'application/*', 'application/json, application/pdf', 'text/html, application/json;q=0.1']) {
      const reply = await as('soleil-cancellation-statement-viewer', statementPath(P, id), { accept });
      assert.equal(reply.status, 200, accept);
      assert.deepEqual(reply.json, json, accept);
    }
    assert.deepEqual(await read('ib-cancellation-statement-viewer', statementPath(I, id)), json);
  });

  it('200 application/pdf as an attachment, for the account holder and the issuing body', async () => {
    const id = statementOf('soleil-root');
    const statement = await read('soleil-root', statementPath(P, id));
    for (const [username, base] of [['soleil-cancellation-statement-viewer', P], ['ib-cancellation-statement-administrator', I]]) {
      const reply = await download(username, statementPath(base, id), 'application/pdf, application/json;q=0.5');
      assert.equal(reply.status, 200);
      assert.equal(reply.headers.get('content-type'), 'application/pdf');
      assert.equal(reply.headers.get('content-disposition'), `attachment; filename="CancellationStatement_${id}.pdf"`);
      const text = assertPdf(reply.bytes);
      for (const value of [statement.statementId, statement.transactionId, statement.certificates[0].startCertificateId, statement.placeOfConsumption.replace(/[^ -~]/g, '')]) {
        assert.ok(text.includes(value), `the PDF shows ${value}`);
      }
    }
    // The same statement gives the same document: it is dated by the cancellation, not by the clock.
    const again = await download('soleil-root', statementPath(P, id), 'application/pdf');
    assert.deepEqual(again.bytes, (await download('soleil-root', statementPath(P, id), 'application/pdf')).bytes);
  });

  it('406 REPORT_015 for an Accept that allows neither JSON (nor XML) nor PDF (refusals are JSON whatever Accept says)', async () => {
    const id = statementOf('soleil-root');
    for (const accept of ['text/html', 'image/png, text/csv', 'application/json;q=0, application/pdf;q=0']) {
      expectCode(await as('soleil-root', statementPath(P, id), { accept }), 406, 'REPORT_015');
      expectCode(await as('ib-root', statementPath(I, id), { accept }), 406, 'REPORT_015');
    }
    // 406 comes before the look-up: an unknown statement is still 406.
    expectCode(await as('soleil-root', statementPath(P, UNKNOWN_ID), { accept: 'text/html' }), 406, 'REPORT_015');
  });
});

describe('issuing body reports: the whole domain, in agreement with the registry’s bundles', () => {
  before(reset);
  let bundles: CertificateBundle[];
  before(async () => {
    bundles = await readAll('ib-ah-viewer', `${I}/Certificates`);
  });

  it('ibGetCertificates: every bundle of the domain, newest issuance first', async () => {
    assert.equal(bundles.length, registry().bundles.size);
    assert.ok(descending(bundles.map((bundle) => bundle.issuingDate)));
    assert.equal(new Set(bundles.map((bundle) => registry().accounts.get(bundle.accountNumber)?.organizationId)).size > 3, true);
    const filtered: CertificateBundle[] = await read('ib-supervisory-authority', `${I}/Certificates?$top=500&$filter=${q(`accountNumber eq '${holding('eolien-root').accountNumber}'`)}`);
    assert.ok(filtered.length > 0 && filtered.every((bundle) => bundle.accountNumber === holding('eolien-root').accountNumber));
  });

  it('ibGetDomainStatistics: over the whole history, issued = every bundle, cancelled/expired/exported = bundles of that status', async () => {
    const rows = await read('ib-ah-administrator', `${I}/DomainStatistics?from=2000-01&to=${thisMonth()}&$top=500`);
    assert.ok(ascending(rows.map((row: any) => `${row.month} ${row.technologyCode}`)));
    assert.equal(sum(rows.map((row: any) => row.issuedVolumeMWh)), volumeOf(bundles));
    assert.equal(sum(rows.map((row: any) => row.cancelledVolumeMWh)), volumeOf(bundles, 'Cancelled'));
    assert.equal(sum(rows.map((row: any) => row.expiredVolumeMWh)), volumeOf(bundles, 'Expired'));
    assert.equal(sum(rows.map((row: any) => row.exportedVolumeMWh)), volumeOf(bundles, 'Exported'));
    assert.equal(sum(rows.map((row: any) => row.importedVolumeMWh)), 0);
    assert.ok(rows.every((row: any) => row.issuedVolumeMWh + row.cancelledVolumeMWh + row.expiredVolumeMWh + row.exportedVolumeMWh + row.importedVolumeMWh > 0));
    // By issuing date: each month's issued volume is that of the bundles issued in it.
    const month = shiftMonth(thisMonth(), -1);
    const issuedThen = (await read('ib-root', `${I}/DomainStatistics?from=${month}&to=${month}`)).map((row: any) => [row.technologyCode, row.issuedVolumeMWh]);
    const expected = new Map<string, number>();
    for (const bundle of bundles.filter((item) => item.issuingDate.startsWith(month))) expected.set(bundle.technologyCode, (expected.get(bundle.technologyCode) ?? 0) + bundle.volumeMWh);
    assert.deepEqual(new Map(issuedThen.filter(([, volume]: [string, number]) => volume > 0)), expected);
  });

  it('ibGetDomainStatistics: twelve months up to the current one by default; technologyCode narrows', async () => {
    const rows = await read('super-user', `${I}/DomainStatistics`);
    const months = new Set(rows.map((row: any) => row.month));
    assert.ok([...months].every((month) => (month as string) >= shiftMonth(thisMonth(), -11) && (month as string) <= thisMonth()));
    assert.ok(months.has(thisMonth()));
    const wind = await read('super-user', `${I}/DomainStatistics?technologyCode=T020000`);
    assert.deepEqual(wind, rows.filter((row: any) => row.technologyCode === 'T020000'));
  });

  it('ibGetProductionDevicesReport: every device of the domain, in every status, by GSRN', async () => {
    const devices: ProductionDevice[] = await read('ib-pd-viewer', `${I}/ProductionDevices?$top=500`);
    assert.equal(devices.length, registry().devices.size);
    assert.ok(ascending(devices.map((device) => device.gsrn)));
    assert.deepEqual(new Set(devices.map((device) => device.status)), new Set(['Draft', 'Submitted', 'Approved', 'Rejected', 'Inactive']));
    const submitted: ProductionDevice[] = await read('ib-pd-viewer', `${I}/ProductionDevices?$filter=${q("status eq 'Submitted'")}`);
    assert.deepEqual(submitted, devices.filter((device) => device.status === 'Submitted'));
  });

  it('ibGetCancellationStatements: every organisation’s statements, one per cancellation', async () => {
    const statements = await readAll('ib-supervisory-authority', `${I}/CancellationStatements`);
    assert.equal(statements.length, registry().cancellations.size);
    assert.equal(sum(statements.map((statement: any) => statement.volumeMWh)), volumeOf(bundles, 'Cancelled'));
    assert.ok(new Set(statements.map((statement: any) => statement.organizationName)).size > 2);
  });
});

describe('public reports: anonymous, and in agreement with the registry', () => {
  before(reset);
  let bundles: CertificateBundle[];
  before(async () => {
    bundles = await readAll('ib-ah-viewer', `${I}/Certificates`);
  });
  const lastComplete = () => shiftMonth(thisMonth(), -1);

  it('getAccountHolders: the active account holders, by name', async () => {
    const holders = await read(null, `${U}/AccountHolders`);
    const expected = [...registry().organizations.values()].filter((organization) => organization.type === 'AccountHolder' && organization.status === 'Active');
    assert.deepEqual(new Set(holders.map((holder: any) => holder.organizationId)), new Set(expected.map((organization) => organization.organizationId)));
    assert.ok(ascending(holders.map((holder: any) => holder.name)));
    const found = await read(null, `${U}/AccountHolders?$filter=${q("contains(name,'Soleil')")}`);
    assert.deepEqual(found.map((holder: any) => holder.organizationId), [orgOf('soleil-root')]);
  });

  it('getProductionDevices and getProductionDevice: approved devices (inactive ones too) with their public fields only', async () => {
    const devices = await read(null, `${U}/ProductionDevices?$top=500`);
    const listed = [...registry().devices.values()].filter((device) => device.status === 'Approved' || device.status === 'Inactive');
    assert.deepEqual(new Set(devices.map((device: any) => device.gsrn)), new Set(listed.map((device) => device.gsrn)));
    assert.ok(ascending(devices.map((device: any) => device.gsrn)));
    assert.ok(devices.every((device: any) => device.isActive === (registry().devices.get(device.gsrn)?.status === 'Approved')));
    assert.ok(devices.some((device: any) => !device.isActive));
    assert.ok(devices.every((device: any) => !('organizationId' in device) && !('issuingAccountNumber' in device)));
    const solar = await read(null, `${U}/ProductionDevices?technologyCode=T010000&energySourceCode=F01040100`);
    assert.deepEqual(solar, devices.filter((device: any) => device.technologyCode === 'T010000'));
    const [one] = devices;
    assert.deepEqual(await read(null, `${U}/ProductionDevices/${one.gsrn}`), one);
    assert.equal(one.accountHolderName, registry().organizations.get(registry().devices.get(one.gsrn)?.organizationId as string)?.name);
  });

  it('getProductionDevice: 404 PUBLICREPORT_001 for a device in registration, a wrong check digit, an unknown GSRN', async () => {
    const draft = [...registry().devices.values()].find((device) => device.status === 'Draft') as ProductionDevice;
    const wrong = draft.gsrn.slice(0, 17) + ((Number(draft.gsrn[17]) + 1) % 10);
    const unknown = '37600990000000001' + gsrnCheckDigit('37600990000000001');
    for (const gsrn of [draft.gsrn, wrong, unknown]) {
      const reply = await as(null, `${U}/ProductionDevices/${gsrn}`);
      expectCode(reply, 404, 'PUBLICREPORT_001');
      assert.match(reply.json.responseMessage, new RegExp(gsrn));
    }
  });

  it('getIssuedVolumes: by production month, the volumes of the bundles, in every grouping', async () => {
    const rows = await read(null, `${U}/IssuedVolumes?from=2000-01&to=${lastComplete()}&$top=500`);
    const expected = new Map<string, number>();
    for (const bundle of bundles) {
      const key = `${bundle.productionPeriodStart.slice(0, 7)} ${bundle.technologyCode}`;
      expected.set(key, (expected.get(key) ?? 0) + bundle.volumeMWh);
    }
    assert.deepEqual(new Map(rows.map((row: any) => [`${row.month} ${row.technologyCode}`, row.volumeMWh])), expected);
    assert.ok(ascending(rows.map((row: any) => `${row.month} ${row.technologyCode}`)));
    for (const groupBy of ['energySource', 'country']) {
      const grouped = await read(null, `${U}/IssuedVolumes?from=2000-01&to=${lastComplete()}&groupBy=${groupBy}&$top=500`);
      assert.equal(sum(grouped.map((row: any) => row.volumeMWh)), volumeOf(bundles), groupBy);
      assert.ok(grouped.every((row: any) => Object.keys(row).length === 3 && (groupBy === 'country' ? row.country === 'FR' : /^F\d{8}$/.test(row.energySourceCode))));
    }
    // Default: the twelve months up to the last complete one.
    const recent = await read(null, `${U}/IssuedVolumes`);
    assert.ok(recent.every((row: any) => row.month >= shiftMonth(lastComplete(), -11) && row.month <= lastComplete()));
    assert.deepEqual(recent, rows.filter((row: any) => row.month >= shiftMonth(lastComplete(), -11)));
  });

  it('getCancelledVolumes and getExpiredVolumes: over the whole history, the bundles of that status', async () => {
    for (const [resource, status] of [['CancelledVolumes', 'Cancelled'], ['ExpiredVolumes', 'Expired']]) {
      for (const groupBy of ['technology', 'energySource', 'country']) {
        const rows = await read(null, `${U}/${resource}?from=2000-01&to=${thisMonth()}&groupBy=${groupBy}&$top=500`);
        assert.equal(sum(rows.map((row: any) => row.volumeMWh)), volumeOf(bundles, status), `${resource} by ${groupBy}`);
      }
      const recent = await read(null, `${U}/${resource}`);
      assert.ok(recent.length > 0 && recent.every((row: any) => row.month >= shiftMonth(lastComplete(), -11) && row.month <= lastComplete() && row.technologyCode));
    }
  });

  it('getAuctionResults: the lots of the last twelve months’ auctions, newest first; technologyCode and region narrow', async () => {
    const lots = await read(null, `${U}/AuctionResults?$top=500`);
    assert.ok(lots.length > 0);
    assert.ok(lots.every((lot: any) => lot.auctionDate.slice(0, 7) >= shiftMonth(thisMonth(), -11) && lot.auctionDate.slice(0, 7) <= thisMonth()));
    assert.ok(descending(lots.map((lot: any) => lot.auctionDate)));
    assert.equal(lots.length, registry().auctions.filter((lot) => lot.auctionDate.slice(0, 7) >= shiftMonth(thisMonth(), -11)).length);
    const region = lots[0].region;
    const narrowed = await read(null, `${U}/AuctionResults?technologyCode=${lots[0].technologyCode}&region=${q(region)}&from=2019-01&$top=500`);
    assert.ok(narrowed.length > 12 && narrowed.every((lot: any) => lot.region === region && lot.technologyCode === lots[0].technologyCode));
    assert.deepEqual(await read(null, `${U}/AuctionResults?from=2019-01&to=2019-08`), []);
  });
});

describe('reports follow the registry as it changes', () => {
  before(reset);

  it('an export reserves certificates (AccountBalances), and once the AIB Hub confirms it they count as exported (DomainStatistics)', async () => {
    const account = holding('soleil-trader');
    const inAYear = new Date(Date.parse(`${registry().today()}T00:00:00Z`) + 300 * 86_400_000).toISOString().slice(0, 10);
    const bundle = registry().bundlesIn(account.accountNumber).find((item) => item.status === 'Active' && item.volumeMWh > 10 && item.expiryDate < inAYear) as CertificateBundle;
    const balance = async () => (await read('soleil-trader', `${P}/AccountBalances?accountNumber=${account.accountNumber}&technologyCode=${bundle.technologyCode}`))[0];
    const exported = async () => (await read('ib-ah-viewer', `${I}/DomainStatistics?from=${thisMonth()}&to=${thisMonth()}&technologyCode=${bundle.technologyCode}`))[0]?.exportedVolumeMWh ?? 0;
    const before = await balance();
    const exportedBefore = await exported();
    const range = { startCertificateId: bundle.startCertificateId, endCertificateId: `1${String(certificateSerial(bundle.startCertificateId)! + 9).padStart(19, '0')}` };
    const reply = await mock.request('POST', '/transactionapi/AH/transactionapi/Exports', {
      token: await mock.token('soleil-trader'),
      body: { fromAccountNumber: account.accountNumber, bundles: [range], destinationDomain: 'DE-UBA', destinationAccountNumber: 'DE-4711' },
    });
    assert.equal(reply.status, 201, reply.text);
    assert.deepEqual(await balance(), { ...before, activeVolumeMWh: before.activeVolumeMWh - 10, reservedVolumeMWh: before.reservedVolumeMWh + 10 });
    const expiring: CertificateBundle[] = await read('soleil-trader', `${P}/ExpiringCertificates?days=365&$top=500`);
    assert.ok(expiring.some((item) => item.status === 'Reserved' && item.startCertificateId === range.startCertificateId && item.volumeMWh === 10));
    await mock.admin('POST', '/__admin/clock', { advance: 'PT10M' });
    assert.deepEqual(await balance(), { ...before, activeVolumeMWh: before.activeVolumeMWh - 10 });
    assert.equal(await exported(), exportedBefore + 10);
  });

  it('a cancellation writes its statement: newest first, its ranges, a PDF of several pages, and this month’s cancelled volumes', async () => {
    const account = holding('soleil-trader');
    const bundle = registry().bundlesIn(account.accountNumber).find((item) => item.status === 'Active' && item.volumeMWh >= 120) as CertificateBundle;
    const first = certificateSerial(bundle.startCertificateId) as number;
    // Every other certificate: 60 ranges, so the statement runs over several pages.
    const ranges = Array.from({ length: 60 }, (_, i) => {
      const id = `1${String(first + 2 * i).padStart(19, '0')}`;
      return { startCertificateId: id, endCertificateId: id };
    });
    const cancelledNow = async () => {
      const rows = await read(null, `${U}/CancelledVolumes?from=${thisMonth()}&to=${thisMonth()}`);
      return rows.find((row: any) => row.technologyCode === bundle.technologyCode)?.volumeMWh ?? 0;
    };
    const before = await cancelledNow();
    const reply = await mock.request('POST', '/transactionapi/AH/transactionapi/Cancellations', {
      token: await mock.token('soleil-trader'),
      body: {
        fromAccountNumber: account.accountNumber,
        bundles: ranges,
        beneficiaryName: 'Boulangerie Martin SARL',
        beneficiaryCountry: 'FR',
        consumptionPeriodStart: bundle.productionPeriodStart,
        consumptionPeriodEnd: bundle.productionPeriodEnd,
        purpose: 'CONSUMPTION_CLAIM',
        placeOfConsumption: 'Tours, Centre-Val de Loire',
      },
    });
    assert.equal(reply.status, 201, reply.text);
    const transactionId = (/Transaction id: ([0-9a-f-]{36})/.exec(reply.json.responseMessage) as RegExpExecArray)[1];
    const [newest] = await read('soleil-cancellation-statement-viewer', `${P}/CancellationStatements?$top=1`);
    assert.equal(newest.transactionId, transactionId);
    assert.deepEqual(
      newest.certificates.map((range: any) => [range.startCertificateId, range.endCertificateId, range.volumeMWh, range.gsrn]),
      ranges.map((range) => [range.startCertificateId, range.endCertificateId, 1, bundle.gsrn]),
    );
    assert.deepEqual([newest.volumeMWh, newest.beneficiaryName, newest.purpose], [60, 'Boulangerie Martin SARL', 'CONSUMPTION_CLAIM']);
    const response = await fetch(`${mock.url}${P}/CancellationStatements/${newest.statementId}`, { headers: { authorization: `Bearer ${await mock.token('soleil-root')}`, accept: 'application/pdf' } });
    const pdf = Buffer.from(await response.arrayBuffer()).toString('latin1');
    assert.match(pdf, /\/Type \/Pages \/Kids \[[^\]]+\] \/Count 4 >>/);
    assert.ok(pdf.includes(ranges[59].startCertificateId));
    assert.equal(await cancelledNow(), before + 60);
  });

  it('the nightly expiry: what ExpiringCertificates announced becomes ExpiredVolumes of the month it expired in', async () => {
    const bundles: CertificateBundle[] = await readAll('ib-ah-viewer', `${I}/Certificates?$filter=${q("status eq 'Active'")}`);
    const next = bundles.map((bundle) => bundle.expiryDate).filter((date) => date >= registry().today()).sort()[0];
    const expiring = volumeOf(bundles.filter((bundle) => bundle.expiryDate === next));
    const announced: CertificateBundle[] = await readAll('soleil-root', `${P}/ExpiringCertificates?days=365`);
    const soleilAccounts = new Set(accountsOf('soleil-root').map((account) => account.accountNumber));
    assert.deepEqual(
      new Set(announced.filter((bundle) => bundle.expiryDate === next && bundle.status === 'Active').map((bundle) => bundle.bundleId)),
      new Set(bundles.filter((bundle) => bundle.expiryDate === next && soleilAccounts.has(bundle.accountNumber)).map((bundle) => bundle.bundleId)),
    );
    const dayAfter = new Date(Date.parse(`${next}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const month = dayAfter.slice(0, 7);
    const before = sum((await read(null, `${U}/ExpiredVolumes?from=${month}&to=${month}`)).map((row: any) => row.volumeMWh));
    await mock.admin('POST', '/__admin/clock', { now: `${dayAfter}T06:00:00Z` });
    const after = sum((await read(null, `${U}/ExpiredVolumes?from=${month}&to=${month}`)).map((row: any) => row.volumeMWh));
    assert.equal(after - before, expiring);
  });
});
