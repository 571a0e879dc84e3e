import { expect, test, type Grex } from '../support/fixtures.js';
import type { Exchange } from '../support/http.js';

/**
 * Whose data comes back. An account holder's user reads its own
 * organisation only (manual Figure 25, "Get Accounts for own organization";
 * the /AH/ paths): its accounts, devices and users, and the certificates,
 * transactions and cancellation statements of its own accounts. A registry
 * that answers another organisation's rows, or labels them with another
 * organisation, passes every schema: these checks read the answers' meaning.
 * Read-only: on DEMO, about a dozen requests inside the fair-use budget, as
 * the signed-in user.
 */
const PAGE = 500;

/** What the holder owns, read once per worker: its organisation, account numbers and device GSRNs (undefined where DEMO's signed-in user may not read them). */
interface Holder {
  organizationId: string;
  name: string;
  accounts?: Set<string>;
  devices?: Set<string>;
}

const userOf = (grex: Grex): string => (grex.target.admin ? 'eolien-root' : 'signed-in');

/** Every page of an AH collection (the holder's own accounts may be more than one page), or the 403 DEMO may answer. */
async function readAll(grex: Grex, contract: string, path: string): Promise<{ rows: Record<string, any>[]; refused?: Exchange }> {
  const rows: Record<string, any>[] = [];
  for (let skip = 0; ; skip += PAGE) {
    const reply = await grex.session.list(`${contract} ${path} ${skip} ${userOf(grex)}`, () => grex.call(contract, 'GET', path, { as: userOf(grex), query: { $top: PAGE, $skip: skip } }));
    if (reply.response.status === 403 && grex.target.name === 'demo') return { rows, refused: reply };
    await grex.check(`GET ${path} as the account holder: 200`, () => expect(reply.response.status).toBe(200));
    rows.push(...(reply.response.json as Record<string, any>[]));
    if ((reply.response.json as unknown[]).length < PAGE) return { rows };
  }
}

/** One page of a collection as the holder; the test is skipped where DEMO's signed-in user may not read it. */
async function page(grex: Grex, contract: string, path: string): Promise<Record<string, any>[]> {
  const reply = await grex.call(contract, 'GET', path, { as: userOf(grex), query: { $top: 100, $skip: 0 } });
  test.skip(grex.target.name === 'demo' && reply.response.status === 403, `the signed-in user may not read ${path}`);
  await grex.check(`GET ${path} as the account holder: 200`, () => expect(reply.response.status).toBe(200));
  return reply.response.json as Record<string, any>[];
}

async function holder(grex: Grex): Promise<Holder> {
  const organizations = await readAll(grex, 'management', '/AH/managementapi/Organizations');
  test.skip(!!organizations.refused, 'the signed-in user may not read its organisation');
  const own = await grex.check('an account holder\'s user sees one organisation: its own', async () => {
    expect(organizations.rows.map((row) => row.name), 'the organisations /AH/ answers').toHaveLength(1);
    const [organization] = organizations.rows;
    if (grex.target.admin) {
      // On the mock the fixture user's organisation is known independently of the API.
      const users = (await grex.http.admin('GET', '/__admin/users')).response.json as { username: string; organization: string }[];
      expect(organization.name, 'the organisation of the user the token names').toBe(users.find((user) => user.username === userOf(grex))?.organization);
    }
    return organization;
  });
  const accounts = await readAll(grex, 'management', '/AH/managementapi/Accounts');
  const devices = await readAll(grex, 'management', '/AH/managementapi/ProductionDevices');
  return {
    organizationId: own.organizationId,
    name: own.name,
    accounts: accounts.refused ? undefined : new Set(accounts.rows.map((row) => row.accountNumber)),
    devices: devices.refused ? undefined : new Set(devices.rows.map((row) => row.gsrn)),
  };
}

/** The holder's account numbers; the test is skipped where DEMO's signed-in user may not list them. */
function accountsOf(own: Holder): Set<string> {
  test.skip(!own.accounts, 'the signed-in user may not list its accounts, so whose accounts others are cannot be told');
  return own.accounts as Set<string>;
}

function devicesOf(own: Holder): Set<string> {
  test.skip(!own.devices, 'the signed-in user may not list its production devices');
  return own.devices as Set<string>;
}

/** The rows that are not the holder's, shown by the fields that say whose they are. */
const foreign = (rows: Record<string, any>[], fields: string[], mine: (row: Record<string, any>) => boolean) =>
  rows.filter((row) => !mine(row)).map((row) => Object.fromEntries(fields.map((field) => [field, row[field]])));

test.describe('an account holder reads its own organisation only', { tag: '@readonly' }, () => {
  test('accounts, production devices and users: its organisation\'s', async ({ grex }) => {
    const own = await holder(grex);
    for (const [contract, path] of [
      ['management', '/AH/managementapi/Accounts'],
      ['management', '/AH/managementapi/ProductionDevices'],
      ['management', '/AH/managementapi/Users'],
    ] as const) {
      const { rows, refused } = await readAll(grex, contract, path);
      if (refused) continue;
      await grex.check(`${path}: every row is organisation ${own.name}'s`, () => {
        expect(foreign(rows, ['organizationId'], (row) => row.organizationId === own.organizationId), `rows of ${path} labelled with another organisation than ${own.organizationId}`).toEqual([]);
      });
    }
  });

  test('certificates and balances: in its own accounts', async ({ grex }) => {
    const own = await holder(grex);
    const accounts = accountsOf(own);
    for (const path of ['/AH/privatereportsapi/Certificates', '/AH/privatereportsapi/ExpiringCertificates', '/AH/privatereportsapi/AccountBalances']) {
      const rows = await page(grex, 'private-reports', path);
      await grex.check(`${path}: every row is in one of the holder's ${accounts.size} accounts`, () => {
        expect(foreign(rows, ['accountNumber'], (row) => accounts.has(row.accountNumber)), `rows of ${path} in accounts that are not the holder's`).toEqual([]);
      });
    }
  });

  test('transactions: each moves certificates into or out of its own accounts', async ({ grex }) => {
    const accounts = accountsOf(await holder(grex));
    const touches = (row: Record<string, any>) => accounts.has(row.fromAccountNumber) || accounts.has(row.toAccountNumber);
    for (const [contract, path] of [
      ['transaction', '/AH/transactionapi/Transactions'],
      ['private-reports', '/AH/privatereportsapi/TransactionHistory'],
    ] as const) {
      const rows = await page(grex, contract, path);
      await grex.check(`${path}: every transaction touches one of the holder's accounts`, () => {
        expect(foreign(rows, ['transactionId', 'fromAccountNumber', 'toAccountNumber'], touches), `transactions of ${path} between other holders' accounts`).toEqual([]);
      });
    }
    const scheduled = await page(grex, 'transaction', '/AH/transactionapi/ScheduledTransactions');
    await grex.check("/AH/transactionapi/ScheduledTransactions: each takes from one of the holder's accounts", () => {
      expect(foreign(scheduled, ['scheduledTransactionId', 'fromAccountNumber'], (row) => accounts.has(row.fromAccountNumber)), 'scheduled transfers out of accounts that are not the holder\'s').toEqual([]);
    });
  });

  test('cancellation statements: of its own accounts, in its name', async ({ grex }) => {
    const own = await holder(grex);
    const accounts = accountsOf(own);
    const rows = await page(grex, 'private-reports', '/AH/privatereportsapi/CancellationStatements');
    await grex.check(`every statement cancels from one of the holder's accounts, in the name of ${own.name}`, () => {
      expect(foreign(rows, ['statementId', 'accountNumber', 'organizationName'], (row) => accounts.has(row.accountNumber) && row.organizationName === own.name), 'statements of other holders').toEqual([]);
    });
  });

  test('issuance requests and measurement data: of its own devices', async ({ grex }) => {
    const own = await holder(grex);
    const accounts = accountsOf(own);
    const devices = devicesOf(own);
    const requests = await page(grex, 'certificate-creation', '/AH/certificatecreationapi/IssuanceRequests');
    await grex.check("every issuance request is for one of the holder's devices, into one of its accounts", () => {
      expect(foreign(requests, ['issuanceRequestId', 'gsrn', 'issuingAccountNumber'], (row) => devices.has(row.gsrn) && (row.issuingAccountNumber === null || accounts.has(row.issuingAccountNumber))), 'issuance requests of other holders').toEqual([]);
    });
    const measurements = await page(grex, 'certificate-creation', '/AH/certificatecreationapi/MeasurementData');
    await grex.check("every measurement is of one of the holder's devices", () => {
      expect(foreign(measurements, ['measurementDataId', 'gsrn'], (row) => devices.has(row.gsrn)), 'measurements of other holders\' devices').toEqual([]);
    });
  });
});
