import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadContracts } from '../contracts/lib/load.js';
import { SchemaValidator } from '../contracts/lib/schema.js';
import type { JsonObject } from '../contracts/lib/types.js';
import { DEFAULT_SEED, generateRegistry } from '../fixtures/generate.js';
import { certificateSerial, isValidGsrn, type CertificateBundle, type CodeListName, type RegistryData, type Transaction } from '../mock/domain/model.js';
import { CODE_LIST_SCHEMAS } from '../mock/state/document.js';

const set = loadContracts();
const registry = generateRegistry({});
const epochDay = registry.epoch.slice(0, 10);
const DAY = 86_400_000;

const serial = (id: string): number => {
  const value = certificateSerial(id);
  assert.notEqual(value, null, `${id} is a certificate id`);
  return value as number;
};
const rangeKey = (range: { startCertificateId: string; endCertificateId: string }): string => `${range.startCertificateId}-${range.endCertificateId}`;
const standardOfDevice = (data: RegistryData): Map<string, string> => {
  const accounts = new Map(data.accounts.map((account) => [account.accountNumber, account]));
  return new Map(data.devices.filter((device) => device.issuingAccountNumber).map((device) => [device.gsrn, accounts.get(device.issuingAccountNumber as string)?.standardAssociation as string]));
};

function assertUnique(values: string[], what: string): void {
  const seen = new Set<string>();
  for (const value of values) {
    assert.ok(!seen.has(value), `${what} ${value} appears twice`);
    seen.add(value);
  }
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}

/** The consistency every profile must have; run on both. */
function assertConsistent(data: RegistryData): void {
  const accounts = new Map(data.accounts.map((account) => [account.accountNumber, account]));
  const standards = standardOfDevice(data);

  assertUnique(data.organizations.map((organization) => organization.organizationId), 'organisation id');
  assertUnique(data.users.map((user) => user.userId), 'user id');
  assertUnique(data.users.map((user) => user.username.toLowerCase()), 'username');
  assertUnique(data.accounts.map((account) => account.accountNumber), 'account number');
  assertUnique(data.devices.map((device) => device.gsrn), 'GSRN');
  assertUnique(data.bundles.map((bundle) => bundle.bundleId), 'bundle id');
  assertUnique(data.transactions.map((transaction) => transaction.transactionId), 'transaction id');

  for (const device of data.devices) assert.ok(isValidGsrn(device.gsrn), `device GSRN ${device.gsrn} has a valid check digit`);
  const sorted = [...data.bundles].sort((a, b) => serial(a.startCertificateId) - serial(b.startCertificateId));
  let previousEnd = 0;
  for (const bundle of sorted) {
    const start = serial(bundle.startCertificateId);
    const end = serial(bundle.endCertificateId);
    assert.equal(bundle.volumeMWh, end - start + 1, `bundle ${bundle.bundleId}: volume = end − start + 1`);
    assert.ok(start > previousEnd, `bundle ${bundle.bundleId} overlaps the previous range (serial ${start} ≤ ${previousEnd})`);
    previousEnd = end;
    const account = accounts.get(bundle.accountNumber);
    assert.ok(account, `bundle ${bundle.bundleId}: account ${bundle.accountNumber} exists`);
    assert.equal(account.standardAssociation, standards.get(bundle.gsrn), `bundle ${bundle.bundleId}: its account holds its device's standard`);
  }
  assert.ok(previousEnd < data.nextCertificate, 'nextCertificate is past every issued serial');

  // Each issuance's bundles tile the range its Issuance transaction issued.
  const issued = new Map(data.transactions.filter((transaction) => transaction.type === 'Issuance').map((transaction) => [rangeKey(transaction.bundles[0]), transaction]));
  const byIssuance = new Map<string, CertificateBundle[]>();
  for (const bundle of sorted) {
    const parts = byIssuance.get(bundle.issuanceId) ?? [];
    parts.push(bundle);
    byIssuance.set(bundle.issuanceId, parts);
  }
  assert.equal(byIssuance.size, issued.size, 'one Issuance transaction per issuance id');
  for (const [issuanceId, parts] of byIssuance) {
    for (let i = 1; i < parts.length; i++) {
      assert.equal(serial(parts[i].startCertificateId), serial(parts[i - 1].endCertificateId) + 1, `issuance ${issuanceId}: parts are contiguous`);
    }
    const whole = { startCertificateId: parts[0].startCertificateId, endCertificateId: parts[parts.length - 1].endCertificateId };
    const transaction = issued.get(rangeKey(whole));
    assert.ok(transaction, `issuance ${issuanceId}: an Issuance transaction issued ${rangeKey(whole)}`);
    assert.equal(parts.reduce((sum, part) => sum + part.volumeMWh, 0), transaction.volumeMWh, `issuance ${issuanceId}: the parts add up to the issued volume`);
  }

  // A retirement is final, so the bundle it produced still has exactly its range, in the account it left from.
  const byRange = new Map(data.bundles.map((bundle) => [rangeKey(bundle), bundle]));
  const RETIRED: Partial<Record<Transaction['type'], CertificateBundle['status']>> = { Cancellation: 'Cancelled', Export: 'Exported', Withdrawal: 'Withdrawn', Expiry: 'Expired' };
  for (const transaction of data.transactions) {
    const status = RETIRED[transaction.type];
    if (status === undefined) continue;
    const bundle = byRange.get(rangeKey(transaction.bundles[0]));
    assert.equal(bundle?.status, status, `${transaction.type} ${transaction.transactionId} left a ${status} bundle`);
    assert.equal(bundle.accountNumber, transaction.fromAccountNumber);
  }
  const retired = data.bundles.filter((bundle) => bundle.status !== 'Active');
  assert.equal(retired.length, data.transactions.filter((transaction) => RETIRED[transaction.type] !== undefined).length, 'one retirement transaction per retired bundle');

  for (const transaction of data.transactions) {
    const volume = transaction.bundles.reduce((sum, range) => sum + serial(range.endCertificateId) - serial(range.startCertificateId) + 1, 0);
    assert.equal(transaction.volumeMWh, volume, `transaction ${transaction.transactionId}: volume = its ranges`);
    assert.ok(transaction.createdAt <= data.epoch && (transaction.completedAt ?? '') <= data.epoch, `transaction ${transaction.transactionId} happened by the epoch`);
    for (const end of [transaction.fromAccountNumber, transaction.toAccountNumber]) {
      if (end !== null) assert.ok(accounts.has(end), `transaction ${transaction.transactionId}: account ${end} exists`);
    }
  }

  for (const bundle of data.bundles) {
    if (bundle.status === 'Expired') assert.ok(bundle.expiryDate < epochDay, `expired bundle ${bundle.bundleId} expired before the epoch`);
    if (bundle.status === 'Active') assert.ok(bundle.expiryDate >= epochDay, `active bundle ${bundle.bundleId} has not expired`);
    assert.ok(bundle.issuingDate <= epochDay, `bundle ${bundle.bundleId} was issued by the epoch`);
  }
}

describe('fixtures: determinism', () => {
  it('gives the same registry for the same seed, and another for another seed', () => {
    const again = JSON.stringify(generateRegistry({ seed: DEFAULT_SEED, profile: 'default' }));
    assert.equal(JSON.stringify(registry), again);
    assert.notEqual(JSON.stringify(generateRegistry({ seed: DEFAULT_SEED + 1 })), again);
  });
});

describe('fixtures: the default registry', () => {
  it('is consistent: unique ids, valid GSRNs, non-overlapping serials, conserved volumes, accounts of the right standard', () => {
    assertConsistent(registry);
  });

  it('has the issuing body, the State and account holders with valid SIRENs', () => {
    const issuingBody = registry.organizations.find((organization) => organization.organizationId === registry.issuingBody.organizationId);
    assert.equal(issuingBody?.type, 'IssuingBody');
    assert.equal(issuingBody?.name, 'EEX France');
    assert.ok(registry.organizations.some((organization) => organization.name.startsWith('DGEC')));
    const holders = registry.organizations.filter((organization) => organization.type === 'AccountHolder');
    assert.ok(holders.length >= 6);
    assert.ok(holders.some((organization) => organization.status === 'Inactive'));
    for (const holder of holders) assert.ok(luhnValid(holder.siren ?? ''), `${holder.name}: SIREN ${holder.siren} passes Luhn`);
    assert.ok(holders.some((organization) => organization.aibCode?.startsWith('57X')), 'a biogas holder has a 57X… code');
  });

  it('has every role of common.yaml held by an active user of the right kind of organisation', () => {
    const types = new Map(registry.organizations.map((organization) => [organization.organizationId, organization.type]));
    const held = (role: string, type: string) =>
      registry.users.some((user) => user.status === 'Active' && user.roles.includes(role) && types.get(user.organizationId) === type);
    for (const role of set.roles.issuingBody) assert.ok(held(role, 'IssuingBody'), `an active issuing-body user holds ${role}`);
    for (const role of set.roles.accountHolder) assert.ok(held(role, 'AccountHolder'), `an active account-holder user holds ${role}`);
    for (const username of ['ib-root', 'super-user', 'soleil-trader', 'eolien-cancellation-statement-viewer']) {
      assert.ok(registry.users.some((user) => user.username === username), `user ${username} exists`);
    }
    assert.ok(registry.users.some((user) => user.status === 'Inactive'));
    assert.ok(registry.users.some((user) => user.status === 'Invited'));
    for (const user of registry.users) {
      assert.equal(user.password, 'Grex-Mock-2026!');
      assert.match(user.email, /\.test$/);
      assert.match(user.phoneNumber ?? '', /^\+336[0-9]{8}$/);
      assert.ok(user.createdAt < registry.epoch);
    }
  });

  it('has account trees: one default per standard, parents of the same holder and standard, a locked and an empty inactive account', () => {
    const accounts = new Map(registry.accounts.map((account) => [account.accountNumber, account]));
    const defaults = new Set<string>();
    for (const account of registry.accounts) {
      assert.ok(account.createdAt < registry.epoch);
      if (account.isDefault) {
        const key = `${account.organizationId} ${account.standardAssociation}`;
        assert.ok(!defaults.has(key), `one default account for ${key}`);
        defaults.add(key);
      }
      if (account.parentAccountNumber === null) continue;
      const parent = accounts.get(account.parentAccountNumber);
      assert.equal(parent?.organizationId, account.organizationId);
      assert.equal(parent?.standardAssociation, account.standardAssociation);
      assert.ok(parent.createdAt <= account.createdAt, `${account.accountNumber} was opened after its parent`);
    }
    for (const account of registry.accounts) assert.ok(defaults.has(`${account.organizationId} ${account.standardAssociation}`), `${account.accountNumber} has a default account for its standard`);
    assert.ok(new Set(registry.accounts.map((account) => account.standardAssociation)).size > 1, 'account trees exist in more than one standard');
    assert.ok(registry.accounts.some((account) => account.isLocked));
    const inactive = registry.accounts.filter((account) => account.status === 'Inactive');
    assert.ok(inactive.length > 0);
    for (const account of inactive) {
      assert.ok(!registry.bundles.some((bundle) => bundle.accountNumber === account.accountNumber), `inactive ${account.accountNumber} holds no certificates`);
      assert.ok(!registry.accounts.some((child) => child.parentAccountNumber === account.accountNumber), `inactive ${account.accountNumber} has no sub-accounts`);
    }
  });

  it('has devices in every status, approved ones issuing into their owner’s issuing account', () => {
    const accounts = new Map(registry.accounts.map((account) => [account.accountNumber, account]));
    for (const status of ['Draft', 'Submitted', 'Approved', 'Rejected', 'Inactive']) assert.ok(registry.devices.some((device) => device.status === status), status);
    for (const device of registry.devices.filter((entry) => entry.status === 'Approved')) {
      const account = accounts.get(device.issuingAccountNumber ?? '');
      assert.ok(account?.isIssuingAccount, `${device.name} issues into an issuing account`);
      assert.equal(account.organizationId, device.organizationId);
    }
  });

  it('has a history: several hundred bundles in every terminal status', () => {
    assert.ok(registry.bundles.length >= 300);
    for (const status of ['Active', 'Cancelled', 'Exported', 'Expired', 'Withdrawn']) assert.ok(registry.bundles.some((bundle) => bundle.status === status), status);
    for (const type of ['Issuance', 'Transfer', 'Export', 'Cancellation', 'Withdrawal', 'Expiry']) assert.ok(registry.transactions.some((transaction) => transaction.type === type), type);
    const issuances = new Set(registry.bundles.map((bundle) => bundle.issuanceId));
    assert.ok(issuances.size < registry.bundles.length, 'transfers split bundles');
  });

  it('records for every cancelled bundle a cancellation of its production month (French rule)', () => {
    const cancellations = new Map(registry.cancellations.map((cancellation) => [cancellation.transactionId, cancellation]));
    const byRange = new Map(registry.transactions.filter((transaction) => transaction.type === 'Cancellation').map((transaction) => [rangeKey(transaction.bundles[0]), transaction]));
    const purposes = new Set(registry.codeLists.CancellationPurposes.map((purpose) => purpose.code));
    for (const bundle of registry.bundles.filter((entry) => entry.status === 'Cancelled')) {
      const transaction = byRange.get(rangeKey(bundle));
      assert.ok(transaction, `cancelled bundle ${bundle.bundleId} has its Cancellation transaction`);
      const cancellation = cancellations.get(transaction.transactionId);
      assert.ok(cancellation, `transaction ${transaction.transactionId} has its cancellation`);
      assert.equal(cancellation.consumptionPeriodStart.slice(0, 7), bundle.productionPeriodStart.slice(0, 7));
      assert.equal(cancellation.consumptionPeriodEnd.slice(0, 7), bundle.productionPeriodStart.slice(0, 7));
      assert.equal(cancellation.accountNumber, bundle.accountNumber);
      assert.ok(purposes.has(cancellation.purpose), `purpose ${cancellation.purpose} is in CancellationPurposes`);
    }
    assertUnique(registry.cancellations.map((cancellation) => cancellation.statementId), 'statement id');
  });

  it('has scheduled transfers of active ranges, within the two weeks after the epoch, between accounts of one standard', () => {
    const accounts = new Map(registry.accounts.map((account) => [account.accountNumber, account]));
    const epochMs = Date.parse(registry.epoch);
    assert.ok(registry.scheduled.length >= 3 && registry.scheduled.length <= 5);
    for (const item of registry.scheduled) {
      const at = Date.parse(item.executeAt);
      assert.ok(at > epochMs && at <= epochMs + 14 * DAY, `${item.executeAt} is in the two weeks after the epoch`);
      assert.ok(item.createdAt < registry.epoch);
      assert.equal(item.status, 'Scheduled');
      const [range] = item.bundles;
      const holder = registry.bundles.find(
        (bundle) =>
          bundle.accountNumber === item.fromAccountNumber &&
          bundle.status === 'Active' &&
          serial(bundle.startCertificateId) <= serial(range.startCertificateId) &&
          serial(range.endCertificateId) <= serial(bundle.endCertificateId),
      );
      assert.ok(holder, `scheduled range ${rangeKey(range)} is active in ${item.fromAccountNumber}`);
      assert.equal(item.volumeMWh, serial(range.endCertificateId) - serial(range.startCertificateId) + 1);
      assert.equal(accounts.get(item.toAccountNumber)?.standardAssociation, accounts.get(item.fromAccountNumber)?.standardAssociation);
    }
  });

  it('has issuance requests: submitted ones awaiting a decision, approved ones naming their issuance', () => {
    const requests = registry.issuanceRequests;
    const measurements = new Map(registry.measurements.map((measurement) => [measurement.measurementDataId, measurement]));
    const issuedRanges = new Set(registry.transactions.filter((transaction) => transaction.type === 'Issuance').map((transaction) => rangeKey(transaction.bundles[0])));
    for (const status of ['Submitted', 'Approved', 'Rejected'] as const) assert.ok(requests.some((request) => request.status === status), status);
    for (const request of requests) {
      assert.ok(isValidGsrn(request.gsrn));
      assert.ok(request.submittedAt <= registry.epoch && (request.decidedAt ?? '') <= registry.epoch);
      if (request.status === 'Submitted') assert.equal(request.decidedAt, null);
      if (request.status === 'Rejected') assert.ok(request.decisionReason);
      if (request.status === 'Approved') {
        assert.ok(issuedRanges.has(rangeKey({ startCertificateId: request.startCertificateId ?? '', endCertificateId: request.endCertificateId ?? '' })));
        assert.equal(serial(request.endCertificateId ?? '') - serial(request.startCertificateId ?? '') + 1, request.volumeMWh);
      }
      if (request.measurementDataId !== null) {
        const measurement = measurements.get(request.measurementDataId);
        assert.equal(measurement?.issuanceRequestId, request.issuanceRequestId);
        assert.equal(Math.floor(measurement.volumeMWh), request.volumeMWh);
      }
    }
  });

  it('has the auctions since September 2019, selling at most what was offered', () => {
    const months = registry.auctions.map((auction) => auction.productionMonth).sort();
    assert.equal(registry.auctions.map((auction) => auction.auctionDate).sort()[0].slice(0, 7), '2019-09');
    assert.ok(months[months.length - 1] < registry.epoch.slice(0, 7));
    for (const auction of registry.auctions) {
      assert.ok(auction.volumeSoldMWh <= auction.volumeOfferedMWh);
      assert.ok(auction.auctionDate <= epochDay);
    }
  });

  it('matches the contracts’ schemas, record by record', () => {
    const contract = (name: string) => {
      const found = set.contracts.find((entry) => entry.name === name);
      assert.ok(found, `contract ${name}`);
      const validator = new SchemaValidator(found.doc);
      const schemas = found.doc.components?.schemas as Record<string, JsonObject>;
      return (schemaName: string, values: readonly unknown[]) => {
        const schema = schemas[schemaName];
        assert.ok(schema, `${name} has the schema ${schemaName}`);
        for (const value of values) assert.deepEqual(validator.validate(schema, value), [], `${schemaName} ${JSON.stringify(value).slice(0, 200)}`);
      };
    };
    const management = contract('management');
    management('Organization', registry.organizations);
    management('User', registry.users.map(({ password: _password, ...user }) => user));
    management('Account', registry.accounts);
    management('ProductionDevice', registry.devices);
    const reports = contract('private-reports');
    reports('CertificateBundle', registry.bundles);
    reports('Transaction', registry.transactions);
    reports('CancellationStatement', statements(registry));
    contract('transaction')('ScheduledTransaction', registry.scheduled);
    const creation = contract('certificate-creation');
    creation('MeasurementData', registry.measurements);
    creation('IssuanceRequest', registry.issuanceRequests);
    contract('public-reports')('AuctionResult', registry.auctions);
    const masterData = contract('master-data');
    for (const [list, schema] of Object.entries(CODE_LIST_SCHEMAS) as [CodeListName, string][]) masterData(schema, registry.codeLists[list]);
  });

  it('lists in fixtures/README.md only accounts, devices and users that exist', () => {
    const readme = readFileSync(new URL('../fixtures/README.md', import.meta.url), 'utf8');
    const numbers = new Set(registry.accounts.map((account) => account.accountNumber));
    const gsrns = new Set(registry.devices.map((device) => device.gsrn));
    const usernames = new Set(registry.users.map((user) => user.username));
    for (const [, number] of readme.matchAll(/`(643[0-9]{15})`/g)) assert.ok(numbers.has(number), `account ${number}`);
    for (const [, gsrn] of readme.matchAll(/`(3760[0-9]{14})`/g)) assert.ok(gsrns.has(gsrn), `device ${gsrn}`);
    const users = readme.slice(readme.indexOf('## Users'), readme.indexOf('## Accounts'));
    const listed = [...users.matchAll(/^\| `([a-z][a-z0-9-]*)`(?:, `([a-z][a-z0-9-]*)`)? \|/gm)].flatMap(([, first, second]) => (second ? [first, second] : [first]));
    assert.ok(listed.length >= registry.users.length, 'every user is listed');
    for (const username of listed) assert.ok(usernames.has(username), `user ${username}`);
  });

  it('uses only codes of its code lists', () => {
    const codes = (list: CodeListName) => new Set(registry.codeLists[list].map((entry) => entry.code));
    const [technologies, sources, supports, standards] = [codes('Technologies'), codes('EnergySources'), codes('SupportTypes'), codes('Standards')];
    for (const device of registry.devices) {
      assert.ok(technologies.has(device.technologyCode) && sources.has(device.energySourceCode) && supports.has(device.supportScheme), device.name);
    }
    for (const account of registry.accounts) assert.ok(standards.has(account.standardAssociation));
  });
});

/** Cancellation statements as the Private Reports API would build them from the fixtures. */
function statements(data: RegistryData): unknown[] {
  const transactions = new Map(data.transactions.map((transaction) => [transaction.transactionId, transaction]));
  const accounts = new Map(data.accounts.map((account) => [account.accountNumber, account]));
  const organizations = new Map(data.organizations.map((organization) => [organization.organizationId, organization]));
  const devices = new Map(data.devices.map((device) => [device.gsrn, device]));
  const bundles = new Map(data.bundles.map((bundle) => [rangeKey(bundle), bundle]));
  return data.cancellations.map((cancellation) => {
    const transaction = transactions.get(cancellation.transactionId) as Transaction;
    const account = accounts.get(cancellation.accountNumber);
    return {
      statementId: cancellation.statementId,
      transactionId: cancellation.transactionId,
      accountNumber: cancellation.accountNumber,
      organizationName: organizations.get(account?.organizationId ?? '')?.name,
      cancelledAt: transaction.createdAt,
      volumeMWh: transaction.volumeMWh,
      beneficiaryName: cancellation.beneficiaryName,
      beneficiaryCountry: cancellation.beneficiaryCountry,
      consumptionPeriodStart: cancellation.consumptionPeriodStart,
      consumptionPeriodEnd: cancellation.consumptionPeriodEnd,
      purpose: cancellation.purpose,
      placeOfConsumption: cancellation.placeOfConsumption,
      issuingBody: data.issuingBody.name,
      certificates: transaction.bundles.map((range) => {
        const bundle = bundles.get(rangeKey(range)) as CertificateBundle;
        return {
          startCertificateId: range.startCertificateId,
          endCertificateId: range.endCertificateId,
          volumeMWh: bundle.volumeMWh,
          gsrn: bundle.gsrn,
          productionDeviceName: devices.get(bundle.gsrn)?.name,
          technologyCode: bundle.technologyCode,
          energySourceCode: bundle.energySourceCode,
          country: bundle.country,
          productionPeriodStart: bundle.productionPeriodStart,
          productionPeriodEnd: bundle.productionPeriodEnd,
          supportReceived: bundle.supportReceived,
        };
      }),
    };
  });
}

describe('fixtures: the large profile', () => {
  it('has exactly 200 active organisations (and the default one inactive), 10,000 accounts and 100,000 bundles, consistently', () => {
    const started = performance.now();
    const large = generateRegistry({ profile: 'large' });
    const elapsed = performance.now() - started;
    assert.equal(large.organizations.length, 201);
    assert.equal(large.organizations.filter((organization) => organization.status === 'Active').length, 200);
    assert.equal(large.accounts.length, 10_000);
    assert.equal(large.bundles.length, 100_000);
    // A tripwire for quadratic work, not a benchmark: it takes about a second.
    assert.ok(elapsed < 10_000, `generated in ${Math.round(elapsed)} ms`);
    assertConsistent(large);
  });
});
