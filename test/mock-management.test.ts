import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gsrnCheckDigit, type Account, type ProductionDevice, type User } from '../mock/domain/model.js';
import { expectCode, startTestMock, type Reply, type RequestOptions, type TestMock } from './support/mock.js';

/**
 * The Management API v2 over HTTP, as an integrator's client sees it: every
 * operation's success and each code its contract documents, with the state
 * read back after each write. The tests share one registry and run in order;
 * each picks subjects no earlier test has changed.
 */

const AH = '/managementapi/AH/managementapi';
const IB = '/managementapi/IB/managementapi';
const UNKNOWN_ACCOUNT = '643099000000000001';
const UNKNOWN_ID = '0b7f3c1e-5d2a-4c8b-9e6f-1a2b3c4d5e6f';

let mock: TestMock;
before(async () => {
  mock = await startTestMock('mock-management');
});
after(() => mock?.close());

const as: TestMock['as'] = (...args) => mock.as(...args);
const read = (username: string, path: string) => mock.read(username, path);

/** A refused write leaves what `path` shows as it was. */
async function refusedWithoutChange(username: string, path: string, write: () => Promise<Reply>, status: number, responseCode: string): Promise<void> {
  const before = await read(username, path);
  expectCode(await write(), status, responseCode);
  assert.deepEqual(await read(username, path), before, `${responseCode} changed ${path}`);
}

// Subjects are picked from the registry by what they are, not by their numbers, and
// copied: what a test expects must not change with the registry it is compared to.
const user = (username: string): User => structuredClone(mock.app.registry.usersByName.get(username) as User);
const orgOf = (username: string): string => user(username).organizationId;
const accountsOf = (username: string): Account[] => structuredClone(mock.app.registry.accountsOf(orgOf(username)));
const devicesOf = (username: string): ProductionDevice[] =>
  structuredClone([...mock.app.registry.devices.values()].filter((device) => device.organizationId === orgOf(username)));
const holdsCertificates = (account: Account): boolean => mock.app.registry.bundlesIn(account.accountNumber).some((bundle) => bundle.status === 'Active');
const subAccountsOf = (account: Account, of: Account[]): Account[] => of.filter((candidate) => candidate.parentAccountNumber === account.accountNumber);

function soleil() {
  const accounts = accountsOf('soleil-root');
  const trading = accounts.find((account) => subAccountsOf(account, accounts).length > 0) as Account;
  const subAccounts = subAccountsOf(trading, accounts);
  return {
    default: accounts.find((account) => account.isDefault) as Account,
    trading,
    full: subAccounts.find(holdsCertificates) as Account,
    empty: subAccounts.find((account) => !holdsCertificates(account)) as Account,
    issuing: accounts.find((account) => account.isIssuingAccount) as Account,
  };
}

const gsrnOf = (first17: string): string => first17 + gsrnCheckDigit(first17);
const wrongCheckDigit = (gsrn: string): string => gsrn.slice(0, 17) + ((Number(gsrn[17]) + 1) % 10);

const accountPath = (base: string, accountNumber: string) => `${base}/Accounts/${accountNumber}`;
const devicePath = (base: string, gsrn: string) => `${base}/ProductionDevices/${gsrn}`;
const numberIn = (reply: Reply): string => (/Account number: (\d{18})\./.exec(reply.json.responseMessage) as RegExpExecArray)[1];

/** The PUT body that keeps an account as it is, with `changes`. */
const asIs = (account: Account, changes: Partial<Account> = {}) => {
  const { name, parentAccountNumber, status } = { ...account, ...changes };
  return { name, parentAccountNumber, status };
};

describe('every operation: 401 without a token, 403 AUTH_003 for a role the permission table does not list', () => {
  // [method, path, a user whose roles the operation does not grant]
  const operations: [string, string, string][] = [
    ['GET', `${AH}/Accounts`, 'soleil-pd-viewer'],
    ['POST', `${AH}/Accounts`, 'soleil-account-viewer'],
    ['GET', accountPath(AH, UNKNOWN_ACCOUNT), 'soleil-pd-viewer'],
    ['GET', accountPath(AH, UNKNOWN_ACCOUNT), 'ib-pd-viewer'],
    ['PUT', accountPath(AH, UNKNOWN_ACCOUNT), 'soleil-trader'],
    ['GET', `${AH}/ProductionDevices`, 'soleil-trader'],
    ['POST', `${AH}/ProductionDevices`, 'soleil-pd-viewer'],
    ['GET', devicePath(AH, gsrnOf('37600990000000001')), 'soleil-trader'],
    ['PATCH', `${devicePath(AH, gsrnOf('37600990000000001'))}/Status`, 'soleil-pd-viewer'],
    ['GET', `${AH}/Users`, 'soleil-trader'],
    ['POST', `${AH}/Users`, 'soleil-account-administrator'],
    ['GET', `${AH}/Users/${UNKNOWN_ID}`, 'soleil-trader'],
    ['GET', `${AH}/Organizations`, 'ib-root'],
    ['GET', `${AH}/Organizations/${UNKNOWN_ID}`, 'ib-root'],
    ['GET', `${IB}/Accounts`, 'ib-pd-viewer'],
    ['GET', accountPath(IB, UNKNOWN_ACCOUNT), 'soleil-root'],
    ['PATCH', `${accountPath(IB, UNKNOWN_ACCOUNT)}/Lock`, 'ib-ah-viewer'],
    ['GET', `${IB}/ProductionDevices`, 'ib-ah-viewer'],
    ['GET', devicePath(IB, gsrnOf('37600990000000001')), 'ib-user-administrator'],
    ['PATCH', `${devicePath(IB, gsrnOf('37600990000000001'))}/Status`, 'ib-pd-viewer'],
    ['GET', `${IB}/Users`, 'ib-ah-viewer'],
    ['GET', `${IB}/Users/${UNKNOWN_ID}`, 'ib-pd-administrator'],
    ['GET', `${IB}/Organizations`, 'soleil-root'],
    ['GET', `${IB}/Organizations/${UNKNOWN_ID}`, 'soleil-root'],
  ];

  /** Writes send a valid-looking empty JSON body: the refusal must come before it is read. */
  const bodyFor = (method: string): Omit<RequestOptions, 'token'> => (method === 'GET' ? {} : { body: {} });

  it('401 AUTH_001 without a token', async () => {
    for (const [method, path] of operations) expectCode(await as(null, method, path, bodyFor(method)), 401, 'AUTH_001');
  });

  it('403 AUTH_003 for a user without a granted role, before the body is looked at', async () => {
    for (const [method, path, username] of operations) expectCode(await as(username, method, path, bodyFor(method)), 403, 'AUTH_003');
  });
});

describe('Accounts: reads', () => {
  it('ahGetAccounts: the own organisation only, every status, ordered by account number', async () => {
    const accounts: Account[] = await read('soleil-trader', `${AH}/Accounts`);
    const own = accountsOf('soleil-trader').map((account) => account.accountNumber).sort();
    assert.deepEqual(accounts.map((account) => account.accountNumber), own);
    const inactive: Account[] = await read('volta-root', `${AH}/Accounts?$filter=${encodeURIComponent("status eq 'Inactive'")}`);
    assert.equal(inactive.length, 1);
    assert.ok(inactive.every((account) => account.organizationId === orgOf('volta-root')));
  });

  it('ahGetAccounts: ACCOUNT_002 for $top above 500 or an unknown $filter field', async () => {
    expectCode(await as('soleil-root', 'GET', `${AH}/Accounts?$top=501`), 400, 'ACCOUNT_002');
    expectCode(await as('soleil-root', 'GET', `${AH}/Accounts?$filter=${encodeURIComponent("colour eq 'green'")}`), 400, 'ACCOUNT_002');
  });

  it('ahGetAccount: own account for an account holder, any account for a domain grant', async () => {
    const { trading } = soleil();
    assert.deepEqual(await read('soleil-account-viewer', accountPath(AH, trading.accountNumber)), trading);
    assert.deepEqual(await read('ib-ah-viewer', accountPath(AH, trading.accountNumber)), trading);
  });

  it('ahGetAccount: ACCOUNT_002, 404 ACCOUNT_001, and 403 ACCOUNT_003 outside the grant', async () => {
    const { trading } = soleil();
    expectCode(await as('soleil-root', 'GET', accountPath(AH, '12345')), 400, 'ACCOUNT_002');
    const missing = await as('soleil-root', 'GET', accountPath(AH, UNKNOWN_ACCOUNT));
    expectCode(missing, 404, 'ACCOUNT_001');
    assert.match(missing.json.responseMessage, new RegExp(UNKNOWN_ACCOUNT));
    expectCode(await as('eolien-root', 'GET', accountPath(AH, trading.accountNumber)), 403, 'ACCOUNT_003');
    // IB PD roles are granted their own organisation's accounts only (manual Figure 25).
    expectCode(await as('ib-pd-administrator', 'GET', accountPath(AH, trading.accountNumber)), 403, 'ACCOUNT_003');
  });

  it('ibGetAccounts: every organisation of the domain; ACCOUNT_002', async () => {
    const accounts: Account[] = await read('ib-ah-viewer', `${IB}/Accounts?$top=500`);
    assert.equal(accounts.length, mock.app.registry.accounts.size);
    assert.ok(new Set(accounts.map((account) => account.organizationId)).size > 1);
    const locked: Account[] = await read('ib-root', `${IB}/Accounts?$filter=${encodeURIComponent('isLocked eq true')}`);
    assert.ok(locked.length > 0 && locked.every((account) => account.isLocked));
    expectCode(await as('ib-root', 'GET', `${IB}/Accounts?$skip=-1`), 400, 'ACCOUNT_002');
  });

  it('ibGetAccount: any account; ACCOUNT_002 and 404 ACCOUNT_001', async () => {
    const { trading } = soleil();
    assert.deepEqual(await read('ib-supervisory-authority', accountPath(IB, trading.accountNumber)), trading);
    expectCode(await as('ib-root', 'GET', accountPath(IB, 'not-a-number')), 400, 'ACCOUNT_002');
    expectCode(await as('ib-root', 'GET', accountPath(IB, UNKNOWN_ACCOUNT)), 404, 'ACCOUNT_001');
  });
});

describe('Accounts: ahCreateAccount', () => {
  const allAccounts = `${IB}/Accounts?$top=500`;
  const create = (username: string, body: unknown, contentType?: string) => as(username, 'POST', `${AH}/Accounts`, { body, contentType });

  it('201 ACCOUNT_201: an active, plain sub-account with the next number of the organisation', async () => {
    const { trading } = soleil();
    const reply = await create('soleil-account-administrator', { name: 'Ventes PPA 2027', parentAccountNumber: trading.accountNumber, standardAssociation: 'EECS-GO' });
    expectCode(reply, 201, 'ACCOUNT_201');
    const created: Account = await read('soleil-root', accountPath(AH, numberIn(reply)));
    assert.equal(created.accountNumber.slice(0, 6), trading.accountNumber.slice(0, 6));
    assert.deepEqual(
      { ...created, createdAt: undefined },
      {
        accountNumber: numberIn(reply),
        name: 'Ventes PPA 2027',
        organizationId: orgOf('soleil-root'),
        standardAssociation: 'EECS-GO',
        parentAccountNumber: trading.accountNumber,
        isDefault: false,
        isLocked: false,
        isIssuingAccount: false,
        status: 'Active',
        createdAt: undefined,
      },
    );
  });

  it('201: a top-level account when the parent is absent', async () => {
    const reply = await create('volta-root', { name: 'Biométhane collectivités', standardAssociation: 'GO-GAS' });
    expectCode(reply, 201, 'ACCOUNT_201');
    const created: Account = await read('volta-root', accountPath(AH, numberIn(reply)));
    assert.equal(created.parentAccountNumber, null);
    assert.equal(created.standardAssociation, 'GO-GAS');
  });

  it('ACCOUNT_004 for a body that is not JSON, ACCOUNT_002 naming the fields', async () => {
    await refusedWithoutChange('ib-root', allAccounts, () => create('soleil-root', 'name=Compte', 'text/plain'), 400, 'ACCOUNT_004');
    const invalid = await create('soleil-root', { name: '', standardAssociation: 'EECS-GO', colour: 'green' });
    expectCode(invalid, 400, 'ACCOUNT_002');
    assert.match(invalid.json.responseMessage, /name/);
    assert.match(invalid.json.responseMessage, /colour/);
  });

  it('ACCOUNT_005: an unknown or inactive standard', async () => {
    await refusedWithoutChange('ib-root', allAccounts, () => create('soleil-root', { name: 'Hydrogène', standardAssociation: 'GO-H2' }), 400, 'ACCOUNT_005');
    await refusedWithoutChange('ib-root', allAccounts, () => create('soleil-root', { name: 'Inconnu', standardAssociation: 'XX-STD' }), 400, 'ACCOUNT_005');
  });

  it('ACCOUNT_006: a parent that does not exist or belongs to another organisation', async () => {
    const eolienTrading = accountsOf('eolien-root').find((account) => !account.isDefault && !account.isIssuingAccount && account.parentAccountNumber === null) as Account;
    for (const parentAccountNumber of [UNKNOWN_ACCOUNT, eolienTrading.accountNumber]) {
      await refusedWithoutChange('ib-root', allAccounts, () => create('soleil-root', { name: 'Sous-compte', parentAccountNumber, standardAssociation: 'EECS-GO' }), 400, 'ACCOUNT_006');
    }
  });

  it('ACCOUNT_012: an inactive parent; ACCOUNT_007: a parent of another standard', async () => {
    const volta = accountsOf('volta-root');
    const closed = volta.find((account) => account.status === 'Inactive') as Account;
    await refusedWithoutChange('ib-root', allAccounts, () => create('volta-root', { name: 'Offre 2027', parentAccountNumber: closed.accountNumber, standardAssociation: 'EECS-GO' }), 400, 'ACCOUNT_012');
    const electricity = volta.find((account) => account.standardAssociation === 'EECS-GO' && account.status === 'Active') as Account;
    await refusedWithoutChange('ib-root', allAccounts, () => create('volta-root', { name: 'Biogaz', parentAccountNumber: electricity.accountNumber, standardAssociation: 'GO-GAS' }), 400, 'ACCOUNT_007');
  });
});

describe('Accounts: ahUpdateAccount', () => {
  const put = (username: string, accountNumber: string, body: unknown, contentType?: string) => as(username, 'PUT', accountPath(AH, accountNumber), { body, contentType });
  /** Refused: the account reads the same afterwards. */
  const refused = async (username: string, account: Account, body: unknown, status: number, responseCode: string, contentType?: string) =>
    refusedWithoutChange(username, accountPath(AH, account.accountNumber), () => put(username, account.accountNumber, body, contentType), status, responseCode);

  it('200 ACCOUNT_202: rename and move to the top level, then inactivate and reopen an empty account', async () => {
    const { empty } = soleil();
    const path = accountPath(AH, empty.accountNumber);
    const renamed = await put('soleil-account-administrator', empty.accountNumber, { name: 'Ventes à terme 2027', parentAccountNumber: null, standardAssociation: 'EECS-GO', status: 'Active' });
    expectCode(renamed, 200, 'ACCOUNT_202');
    assert.match(renamed.json.responseMessage, new RegExp(empty.accountNumber));
    assert.deepEqual(await read('soleil-root', path), { ...empty, name: 'Ventes à terme 2027', parentAccountNumber: null });
    expectCode(await put('soleil-root', empty.accountNumber, asIs(await read('soleil-root', path), { status: 'Inactive' })), 200, 'ACCOUNT_202');
    assert.equal((await read('soleil-root', path)).status, 'Inactive');
    expectCode(await put('soleil-root', empty.accountNumber, asIs(await read('soleil-root', path), { status: 'Active', parentAccountNumber: soleil().trading.accountNumber })), 200, 'ACCOUNT_202');
    assert.deepEqual(await read('soleil-root', path), { ...empty, name: 'Ventes à terme 2027' });
  });

  it('ACCOUNT_004, ACCOUNT_002, 404 ACCOUNT_001 and 403 ACCOUNT_003', async () => {
    const { empty } = soleil();
    await refused('soleil-root', empty, JSON.stringify(asIs(empty)), 400, 'ACCOUNT_004', 'text/plain');
    await refused('soleil-root', empty, { ...asIs(empty), status: 'Closed' }, 400, 'ACCOUNT_002');
    await refused('soleil-root', empty, { name: empty.name, status: 'Active' }, 400, 'ACCOUNT_002');
    expectCode(await put('soleil-root', UNKNOWN_ACCOUNT, asIs(empty)), 404, 'ACCOUNT_001');
    await refusedWithoutChange('soleil-root', accountPath(AH, empty.accountNumber), () => put('eolien-root', empty.accountNumber, asIs(empty, { name: 'Pris' })), 403, 'ACCOUNT_003');
  });

  it('ACCOUNT_008: a locked account; ACCOUNT_009: a default account', async () => {
    const locked = accountsOf('transalp-root').find((account) => account.isLocked) as Account;
    await refused('transalp-root', locked, asIs(locked, { name: 'Renommé' }), 400, 'ACCOUNT_008');
    const { default: byDefault } = soleil();
    await refused('soleil-root', byDefault, asIs(byDefault, { name: 'Renommé' }), 400, 'ACCOUNT_009');
  });

  it('ACCOUNT_005: the standard cannot change', async () => {
    const { empty } = soleil();
    await refused('soleil-root', empty, { ...asIs(empty), standardAssociation: 'GO-GAS' }, 400, 'ACCOUNT_005');
  });

  it('ACCOUNT_006, ACCOUNT_012, ACCOUNT_007: the parent must exist in the organisation, be active and share the standard', async () => {
    const { empty } = soleil();
    const eolienAccount = accountsOf('eolien-root').find((account) => account.isDefault) as Account;
    await refused('soleil-root', empty, asIs(empty, { parentAccountNumber: UNKNOWN_ACCOUNT }), 400, 'ACCOUNT_006');
    await refused('soleil-root', empty, asIs(empty, { parentAccountNumber: eolienAccount.accountNumber }), 400, 'ACCOUNT_006');
    const volta = accountsOf('volta-root');
    const sub = volta.find((account) => account.parentAccountNumber !== null && account.standardAssociation === 'EECS-GO') as Account;
    const closed = volta.find((account) => account.status === 'Inactive') as Account;
    await refused('volta-root', sub, asIs(sub, { parentAccountNumber: closed.accountNumber }), 400, 'ACCOUNT_012');
    const gas = volta.find((account) => account.standardAssociation === 'GO-GAS' && account.status === 'Active') as Account;
    await refused('volta-root', sub, asIs(sub, { parentAccountNumber: gas.accountNumber }), 400, 'ACCOUNT_007');
  });

  it('ACCOUNT_011: the parent cannot be the account itself or one of its sub-accounts', async () => {
    const { trading, empty } = soleil();
    await refused('soleil-root', trading, asIs(trading, { parentAccountNumber: empty.accountNumber }), 400, 'ACCOUNT_011');
    await refused('soleil-root', trading, asIs(trading, { parentAccountNumber: trading.accountNumber }), 400, 'ACCOUNT_011');
  });

  it('ACCOUNT_010: an account with sub-accounts or certificates cannot be inactivated', async () => {
    const { trading, full } = soleil();
    await refused('soleil-root', trading, asIs(trading, { status: 'Inactive' }), 400, 'ACCOUNT_010');
    await refused('soleil-root', full, asIs(full, { status: 'Inactive' }), 400, 'ACCOUNT_010');
  });

  it('ACCOUNT_013: the empty issuing account of a device still in its life cycle cannot be inactivated, until the device is', async () => {
    const created = await as('soleil-root', 'POST', `${AH}/Accounts`, { body: { name: 'Émission Lauragais', standardAssociation: 'EECS-GO' } });
    expectCode(created, 201, 'ACCOUNT_201');
    const accountNumber = numberIn(created);
    const gsrn = gsrnOf('37600020000000901');
    const device = await as('soleil-pd-administrator', 'POST', `${AH}/ProductionDevices`, {
      body: { gsrn, name: 'Centrale solaire du Lauragais', technologyCode: 'T010000', energySourceCode: 'F01040100', capacityMW: 8.2, commissioningDate: '2024-09-01', country: 'FR', issuingAccountNumber: accountNumber },
    });
    expectCode(device, 201, 'DEVICE_201');
    const account: Account = await read('soleil-root', accountPath(AH, accountNumber));
    assert.equal(account.isIssuingAccount, true, 'naming it as a device issuing account flags it');
    await refused('soleil-root', account, asIs(account, { status: 'Inactive' }), 400, 'ACCOUNT_013');
    expectCode(await as('ib-pd-administrator', 'PATCH', `${devicePath(IB, gsrn)}/Status`, { body: { status: 'Inactive', reason: 'Projet abandonné.' } }), 400, 'DEVICE_007');
    expectCode(await as('soleil-root', 'PATCH', `${devicePath(AH, gsrn)}/Status`, { body: { status: 'Submitted' } }), 200, 'DEVICE_202');
    expectCode(await as('ib-pd-administrator', 'PATCH', `${devicePath(IB, gsrn)}/Status`, { body: { status: 'Rejected', reason: 'Raccordement non justifié.' } }), 200, 'DEVICE_202');
    expectCode(await as('ib-pd-administrator', 'PATCH', `${devicePath(IB, gsrn)}/Status`, { body: { status: 'Inactive', reason: 'Dossier clos.' } }), 200, 'DEVICE_202');
    expectCode(await put('soleil-root', accountNumber, asIs(account, { status: 'Inactive' })), 200, 'ACCOUNT_202');
    assert.equal((await read('soleil-root', accountPath(AH, accountNumber))).status, 'Inactive');
  });
});

describe('Accounts: ibLockAccount', () => {
  const lock = (username: string, accountNumber: string, body: unknown, contentType?: string) => as(username, 'PATCH', `${accountPath(IB, accountNumber)}/Lock`, { body, contentType });

  it('200 ACCOUNT_204 locks (and the holder can no longer update it), ACCOUNT_014 when already locked, ACCOUNT_205 unlocks', async () => {
    const account = accountsOf('hydro-root').find((candidate) => candidate.parentAccountNumber !== null) as Account;
    const path = accountPath(IB, account.accountNumber);
    const locked = await lock('ib-ah-administrator', account.accountNumber, { locked: true, reason: 'Enquête 2026-031.' });
    expectCode(locked, 200, 'ACCOUNT_204');
    assert.match(locked.json.responseMessage, new RegExp(account.accountNumber));
    assert.deepEqual(await read('ib-root', path), { ...account, isLocked: true });
    expectCode(await as('hydro-root', 'PUT', accountPath(AH, account.accountNumber), { body: asIs(account, { name: 'Renommé' }) }), 400, 'ACCOUNT_008');
    await refusedWithoutChange('ib-root', path, () => lock('super-user', account.accountNumber, { locked: true, reason: 'Encore.' }), 400, 'ACCOUNT_014');
    expectCode(await lock('ib-root', account.accountNumber, { locked: false, reason: 'Enquête 2026-031 close.' }), 200, 'ACCOUNT_205');
    assert.deepEqual(await read('ib-root', path), account);
    await refusedWithoutChange('ib-root', path, () => lock('ib-root', account.accountNumber, { locked: false, reason: 'Encore.' }), 400, 'ACCOUNT_014');
  });

  it('ACCOUNT_004, ACCOUNT_002 and 404 ACCOUNT_001', async () => {
    const account = accountsOf('hydro-root')[0];
    const path = accountPath(IB, account.accountNumber);
    await refusedWithoutChange('ib-root', path, () => lock('ib-root', account.accountNumber, '{"locked":true,"reason":"x"}', 'text/plain'), 400, 'ACCOUNT_004');
    const invalid = await lock('ib-root', account.accountNumber, { locked: 'yes' });
    expectCode(invalid, 400, 'ACCOUNT_002');
    assert.match(invalid.json.responseMessage, /locked/);
    assert.match(invalid.json.responseMessage, /reason/);
    expectCode(await lock('ib-root', UNKNOWN_ACCOUNT, { locked: true, reason: 'Enquête.' }), 404, 'ACCOUNT_001');
  });
});

describe('Production devices', () => {
  const newGsrn = gsrnOf('37600020000000777');
  const plant = (fields: Record<string, unknown> = {}) => ({
    gsrn: newGsrn,
    name: 'Ombrières du parking de Lunel',
    technologyCode: 'T010000',
    energySourceCode: 'F01040100',
    capacityMW: 2.1,
    commissioningDate: '2025-04-01',
    country: 'FR',
    location: 'Lunel, Occitanie',
    supportScheme: 'InvestmentSupport',
    issuingAccountNumber: soleil().issuing.accountNumber,
    ...fields,
  });
  const register = (username: string, body: unknown, contentType?: string) => as(username, 'POST', `${AH}/ProductionDevices`, { body, contentType });
  const submit = (username: string, gsrn: string, body: unknown, contentType?: string) => as(username, 'PATCH', `${devicePath(AH, gsrn)}/Status`, { body, contentType });
  const decide = (username: string, gsrn: string, body: unknown, contentType?: string) => as(username, 'PATCH', `${devicePath(IB, gsrn)}/Status`, { body, contentType });
  const allDevices = `${IB}/ProductionDevices?$top=500`;

  it('ahGetProductionDevices: the own devices in every status, ordered by GSRN; DEVICE_002', async () => {
    const devices: ProductionDevice[] = await read('soleil-pd-viewer', `${AH}/ProductionDevices`);
    assert.deepEqual(devices.map((device) => device.gsrn), devicesOf('soleil-root').map((device) => device.gsrn).sort());
    const drafts: ProductionDevice[] = await read('soleil-root', `${AH}/ProductionDevices?$filter=${encodeURIComponent("status eq 'Draft'")}`);
    assert.ok(drafts.length > 0 && drafts.every((device) => device.status === 'Draft'));
    expectCode(await as('soleil-root', 'GET', `${AH}/ProductionDevices?$top=0`), 400, 'DEVICE_002');
  });

  it('ibGetProductionDevices: the domain; DEVICE_002', async () => {
    const devices: ProductionDevice[] = await read('ib-pd-viewer', allDevices);
    assert.equal(devices.length, mock.app.registry.devices.size);
    const queue: ProductionDevice[] = await read('ib-pd-editor', `${IB}/ProductionDevices?$filter=${encodeURIComponent("status eq 'Submitted'")}`);
    assert.ok(queue.length > 0 && queue.every((device) => device.status === 'Submitted'));
    expectCode(await as('ib-root', 'GET', `${IB}/ProductionDevices?$orderby=${encodeURIComponent('colour desc')}`), 400, 'DEVICE_002');
  });

  it('ahGetProductionDevice: own device; DEVICE_002, DEVICE_005, 404 DEVICE_001, 403 DEVICE_003', async () => {
    const [own] = devicesOf('soleil-root');
    assert.deepEqual(await read('soleil-pd-viewer', devicePath(AH, own.gsrn)), own);
    expectCode(await as('soleil-root', 'GET', devicePath(AH, '3760002')), 400, 'DEVICE_002');
    expectCode(await as('soleil-root', 'GET', devicePath(AH, wrongCheckDigit(own.gsrn))), 400, 'DEVICE_005');
    const missing = gsrnOf('37600990000000001');
    const reply = await as('soleil-root', 'GET', devicePath(AH, missing));
    expectCode(reply, 404, 'DEVICE_001');
    assert.match(reply.json.responseMessage, new RegExp(missing));
    expectCode(await as('eolien-root', 'GET', devicePath(AH, own.gsrn)), 403, 'DEVICE_003');
  });

  it('ibGetProductionDevice: any device; DEVICE_002, DEVICE_005, 404 DEVICE_001', async () => {
    const [own] = devicesOf('eolien-root');
    assert.deepEqual(await read('ib-supervisory-authority', devicePath(IB, own.gsrn)), own);
    expectCode(await as('ib-root', 'GET', devicePath(IB, 'ABC')), 400, 'DEVICE_002');
    expectCode(await as('ib-root', 'GET', devicePath(IB, wrongCheckDigit(own.gsrn))), 400, 'DEVICE_005');
    expectCode(await as('ib-root', 'GET', devicePath(IB, gsrnOf('37600990000000001'))), 404, 'DEVICE_001');
  });

  it('ahCreateProductionDevice: 201 DEVICE_201, a Draft of the own organisation', async () => {
    const reply = await register('soleil-pd-administrator', plant());
    expectCode(reply, 201, 'DEVICE_201');
    assert.match(reply.json.responseMessage, new RegExp(newGsrn));
    const { issuingAccountNumber, ...fields } = plant();
    assert.deepEqual(await read('soleil-root', devicePath(AH, newGsrn)), { ...fields, issuingAccountNumber, organizationId: orgOf('soleil-root'), status: 'Draft' });
  });

  it('ahCreateProductionDevice: DEVICE_004 and DEVICE_002, also for a future commissioning or a country outside the domain', async () => {
    const gsrn = gsrnOf('37600020000000888');
    await refusedWithoutChange('ib-root', allDevices, () => register('soleil-root', JSON.stringify(plant({ gsrn })), 'text/plain'), 400, 'DEVICE_004');
    const invalid = await register('soleil-root', plant({ gsrn, capacityMW: 0, supportScheme: 'Subsidy' }));
    expectCode(invalid, 400, 'DEVICE_002');
    assert.match(invalid.json.responseMessage, /capacityMW/);
    const elsewhere = await register('soleil-root', plant({ gsrn, commissioningDate: '2099-06-01', country: 'DE' }));
    expectCode(elsewhere, 400, 'DEVICE_002');
    assert.match(elsewhere.json.responseMessage, /commissioningDate, country/);
    await refusedWithoutChange('ib-root', allDevices, () => register('soleil-root', plant({ gsrn, country: 'BE' })), 400, 'DEVICE_002');
  });

  it('ahCreateProductionDevice: DEVICE_005, DEVICE_008, DEVICE_009, 409 DEVICE_006', async () => {
    const gsrn = gsrnOf('37600020000000999');
    await refusedWithoutChange('ib-root', allDevices, () => register('soleil-root', plant({ gsrn: wrongCheckDigit(gsrn) })), 400, 'DEVICE_005');
    await refusedWithoutChange('ib-root', allDevices, () => register('soleil-root', plant({ gsrn, technologyCode: 'T099999' })), 400, 'DEVICE_008');
    await refusedWithoutChange('ib-root', allDevices, () => register('soleil-root', plant({ gsrn, energySourceCode: 'F09999999' })), 400, 'DEVICE_008');
    const locked = accountsOf('transalp-root').find((account) => account.isLocked) as Account;
    const closed = accountsOf('volta-root').find((account) => account.status === 'Inactive') as Account;
    for (const [username, account] of [
      ['soleil-root', accountsOf('eolien-root')[0]],
      ['transalp-root', locked],
      ['volta-root', closed],
    ] as const) {
      await refusedWithoutChange('ib-root', allDevices, () => register(username, plant({ gsrn, issuingAccountNumber: account.accountNumber })), 400, 'DEVICE_009');
    }
    await refusedWithoutChange('ib-root', allDevices, () => register('soleil-root', plant({ gsrn, issuingAccountNumber: UNKNOWN_ACCOUNT })), 400, 'DEVICE_009');
    const existing = devicesOf('eolien-root')[0];
    const taken = await register('soleil-root', plant({ gsrn: existing.gsrn }));
    expectCode(taken, 409, 'DEVICE_006');
    assert.deepEqual(await read('ib-root', devicePath(IB, existing.gsrn)), existing);
  });

  it('ahSubmitProductionDevice: 200 DEVICE_202 sends the Draft for approval', async () => {
    expectCode(await submit('soleil-pd-administrator', newGsrn, { status: 'Submitted', reason: 'Attestation de mise en service jointe.' }), 200, 'DEVICE_202');
    assert.equal((await read('soleil-root', devicePath(AH, newGsrn))).status, 'Submitted');
  });

  it('ahSubmitProductionDevice: DEVICE_004, DEVICE_002, DEVICE_005, 404 DEVICE_001, 403 DEVICE_003', async () => {
    const draft = devicesOf('soleil-root').find((device) => device.status === 'Draft') as ProductionDevice;
    const path = devicePath(AH, draft.gsrn);
    await refusedWithoutChange('soleil-root', path, () => submit('soleil-root', draft.gsrn, '{"status":"Submitted"}', 'text/plain'), 400, 'DEVICE_004');
    await refusedWithoutChange('soleil-root', path, () => submit('soleil-root', draft.gsrn, { status: 'Approved' }), 400, 'DEVICE_002');
    expectCode(await submit('soleil-root', wrongCheckDigit(draft.gsrn), { status: 'Submitted' }), 400, 'DEVICE_005');
    expectCode(await submit('soleil-root', gsrnOf('37600990000000001'), { status: 'Submitted' }), 404, 'DEVICE_001');
    await refusedWithoutChange('soleil-root', path, () => submit('eolien-root', draft.gsrn, { status: 'Submitted' }), 403, 'DEVICE_003');
  });

  it('ahSubmitProductionDevice: DEVICE_007 when not a Draft, DEVICE_009 without an issuing account', async () => {
    const approved = devicesOf('soleil-root').find((device) => device.status === 'Approved') as ProductionDevice;
    const refusal = await submit('soleil-root', approved.gsrn, { status: 'Submitted' });
    expectCode(refusal, 400, 'DEVICE_007');
    assert.match(refusal.json.responseMessage, /status Approved cannot be set to Submitted/);
    assert.equal((await read('soleil-root', devicePath(AH, approved.gsrn))).status, 'Approved');
    const draft = devicesOf('soleil-root').find((device) => device.status === 'Draft' && device.issuingAccountNumber === null) as ProductionDevice;
    await refusedWithoutChange('soleil-root', devicePath(AH, draft.gsrn), () => submit('soleil-root', draft.gsrn, { status: 'Submitted' }), 400, 'DEVICE_009');
  });

  it('ibUpdateProductionDeviceStatus: 200 DEVICE_202 approves a submitted device, then inactivates it', async () => {
    expectCode(await decide('ib-pd-administrator', newGsrn, { status: 'Approved' }), 200, 'DEVICE_202');
    assert.equal((await read('ib-root', devicePath(IB, newGsrn))).status, 'Approved');
    expectCode(await decide('super-user', newGsrn, { status: 'Inactive', reason: 'Installation démontée.' }), 200, 'DEVICE_202');
    assert.equal((await read('soleil-root', devicePath(AH, newGsrn))).status, 'Inactive');
  });

  it('ibUpdateProductionDeviceStatus: DEVICE_004, DEVICE_002 (also a rejection without reason), DEVICE_005, 404 DEVICE_001, DEVICE_007', async () => {
    const submitted = [...mock.app.registry.devices.values()].find((device) => device.status === 'Submitted' && device.gsrn !== newGsrn) as ProductionDevice;
    const path = devicePath(IB, submitted.gsrn);
    await refusedWithoutChange('ib-root', path, () => decide('ib-root', submitted.gsrn, '{"status":"Approved"}', 'text/plain'), 400, 'DEVICE_004');
    await refusedWithoutChange('ib-root', path, () => decide('ib-root', submitted.gsrn, { status: 'Draft' }), 400, 'DEVICE_002');
    const reasonless = await decide('ib-root', submitted.gsrn, { status: 'Rejected' });
    expectCode(reasonless, 400, 'DEVICE_002');
    assert.match(reasonless.json.responseMessage, /reason/);
    expectCode(await decide('ib-root', wrongCheckDigit(submitted.gsrn), { status: 'Approved' }), 400, 'DEVICE_005');
    expectCode(await decide('ib-root', gsrnOf('37600990000000001'), { status: 'Approved' }), 404, 'DEVICE_001');
    const inactive = [...mock.app.registry.devices.values()].find((device) => device.status === 'Inactive') as ProductionDevice;
    await refusedWithoutChange('ib-root', devicePath(IB, inactive.gsrn), () => decide('ib-root', inactive.gsrn, { status: 'Approved' }), 400, 'DEVICE_007');
    await refusedWithoutChange('ib-root', path, () => decide('ib-root', submitted.gsrn, { status: 'Inactive', reason: 'Trop tôt.' }), 400, 'DEVICE_007');
  });
});

describe('Users', () => {
  const invite = (username: string, body: unknown, contentType?: string) => as(username, 'POST', `${AH}/Users`, { body, contentType });
  const newcomer = (fields: Record<string, unknown> = {}) => ({
    username: 'l.petit',
    displayName: 'Léa Petit',
    email: 'lea.petit@soleil-occitanie.test',
    phoneNumber: '+33698765432',
    roles: ['AH Trader', 'AH Account Viewer'],
    ...fields,
  });
  const allUsers = `${IB}/Users?$top=500`;

  it('ahGetUsers: the own organisation, ordered by username; USER_002', async () => {
    const users: User[] = await read('soleil-user-administrator', `${AH}/Users`);
    assert.ok(users.length > 1 && users.every((candidate) => candidate.organizationId === orgOf('soleil-root')));
    assert.deepEqual(users.map((candidate) => candidate.username), users.map((candidate) => candidate.username).sort());
    const invited: User[] = await read('soleil-root', `${AH}/Users?$filter=${encodeURIComponent("status eq 'Invited'")}`);
    assert.deepEqual(invited.map((candidate) => candidate.username), ['soleil-new-viewer']);
    expectCode(await as('soleil-root', 'GET', `${AH}/Users?$top=600`), 400, 'USER_002');
  });

  it('ibGetUsers: every organisation; USER_002', async () => {
    const users: User[] = await read('ib-user-administrator', allUsers);
    assert.equal(users.length, mock.app.registry.users.size);
    expectCode(await as('ib-root', 'GET', `${IB}/Users?$filter=${encodeURIComponent("password eq 'x'")}`), 400, 'USER_002');
  });

  it('ahGetUser: own user; USER_002, 404 USER_001, 403 USER_003', async () => {
    const trader = user('soleil-trader');
    assert.deepEqual(await read('soleil-root', `${AH}/Users/${trader.userId}`), trader);
    expectCode(await as('soleil-root', 'GET', `${AH}/Users/not-a-uuid`), 400, 'USER_002');
    expectCode(await as('soleil-root', 'GET', `${AH}/Users/${UNKNOWN_ID}`), 404, 'USER_001');
    expectCode(await as('eolien-root', 'GET', `${AH}/Users/${trader.userId}`), 403, 'USER_003');
  });

  it('ibGetUser: any user; USER_002, 404 USER_001', async () => {
    const trader = user('eolien-trader');
    assert.deepEqual(await read('super-user', `${IB}/Users/${trader.userId}`), trader);
    expectCode(await as('ib-root', 'GET', `${IB}/Users/1234`), 400, 'USER_002');
    expectCode(await as('ib-root', 'GET', `${IB}/Users/${UNKNOWN_ID}`), 404, 'USER_001');
  });

  it('ahCreateUser: 201 USER_201, an invited user of the own organisation', async () => {
    const reply = await invite('soleil-user-administrator', newcomer());
    expectCode(reply, 201, 'USER_201');
    const userId = (/User id: ([0-9a-f-]{36})\./.exec(reply.json.responseMessage) as RegExpExecArray)[1];
    const created: User = await read('soleil-root', `${AH}/Users/${userId}`);
    assert.deepEqual({ ...created, createdAt: undefined }, { ...newcomer(), userId, organizationId: orgOf('soleil-root'), status: 'Invited', createdAt: undefined });
    const listed: User[] = await read('soleil-root', `${AH}/Users?$filter=${encodeURIComponent("username eq 'l.petit'")}`);
    assert.equal(listed.length, 1);
  });

  it('ahCreateUser: USER_004, USER_002 naming the fields, USER_005 for an issuing-body role', async () => {
    await refusedWithoutChange('ib-root', allUsers, () => invite('soleil-root', JSON.stringify(newcomer({ username: 'm.roux' })), 'text/plain'), 400, 'USER_004');
    const invalid = await invite('soleil-root', newcomer({ username: 'm roux', email: 'not-an-address', roles: [] }));
    expectCode(invalid, 400, 'USER_002');
    assert.match(invalid.json.responseMessage, /username/);
    assert.match(invalid.json.responseMessage, /email/);
    assert.match(invalid.json.responseMessage, /roles/);
    await refusedWithoutChange('ib-root', allUsers, () => invite('soleil-root', newcomer({ username: 'm.roux', email: 'm.roux@soleil-occitanie.test', roles: ['AH Trader', 'IB Root'] })), 400, 'USER_005');
  });

  it('ahCreateUser: 409 USER_006 for a username or an e-mail address already taken, whatever the case', async () => {
    const existing = user('eolien-trader');
    await refusedWithoutChange('ib-root', allUsers, () => invite('soleil-root', newcomer({ username: 'Eolien-Trader', email: 'x.y@soleil-occitanie.test' })), 409, 'USER_006');
    await refusedWithoutChange('ib-root', allUsers, () => invite('soleil-root', newcomer({ username: 'x.y', email: existing.email.toUpperCase() })), 409, 'USER_006');
  });
});

describe('Organizations', () => {
  it('ahGetOrganizations: the own organisation only; ORGANIZATION_002', async () => {
    const organizations = await read('soleil-cancellation-statement-viewer', `${AH}/Organizations`);
    assert.deepEqual(organizations, [mock.app.registry.organizations.get(orgOf('soleil-root'))]);
    expectCode(await as('soleil-root', 'GET', `${AH}/Organizations?$top=0`), 400, 'ORGANIZATION_002');
  });

  it('ahGetOrganization: own; ORGANIZATION_002, 404 ORGANIZATION_001, 403 ORGANIZATION_003', async () => {
    const own = mock.app.registry.organizations.get(orgOf('soleil-root'));
    assert.deepEqual(await read('soleil-trader', `${AH}/Organizations/${orgOf('soleil-root')}`), own);
    expectCode(await as('soleil-root', 'GET', `${AH}/Organizations/soleil`), 400, 'ORGANIZATION_002');
    expectCode(await as('soleil-root', 'GET', `${AH}/Organizations/${UNKNOWN_ID}`), 404, 'ORGANIZATION_001');
    expectCode(await as('soleil-root', 'GET', `${AH}/Organizations/${orgOf('eolien-root')}`), 403, 'ORGANIZATION_003');
  });

  it('ibGetOrganizations: the domain, ordered by name; ORGANIZATION_002', async () => {
    const organizations: { name: string; type: string }[] = await read('ib-cancellation-statement-viewer', `${IB}/Organizations`);
    assert.equal(organizations.length, mock.app.registry.organizations.size);
    assert.deepEqual(organizations.map((organization) => organization.name), organizations.map((organization) => organization.name).sort((a, b) => a.localeCompare(b)));
    const issuingBody = await read('ib-root', `${IB}/Organizations?$filter=${encodeURIComponent("type eq 'IssuingBody'")}`);
    assert.equal(issuingBody.length, 1);
    expectCode(await as('ib-root', 'GET', `${IB}/Organizations?$filter=${encodeURIComponent("colour eq 'green'")}`), 400, 'ORGANIZATION_002');
  });

  it('ibGetOrganization: any organisation; ORGANIZATION_002, 404 ORGANIZATION_001', async () => {
    const eolien = mock.app.registry.organizations.get(orgOf('eolien-root'));
    assert.deepEqual(await read('ib-pd-viewer', `${IB}/Organizations/${orgOf('eolien-root')}`), eolien);
    expectCode(await as('ib-root', 'GET', `${IB}/Organizations/42`), 400, 'ORGANIZATION_002');
    expectCode(await as('ib-root', 'GET', `${IB}/Organizations/${UNKNOWN_ID}`), 404, 'ORGANIZATION_001');
  });
});
