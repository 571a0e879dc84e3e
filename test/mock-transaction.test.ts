import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { certificateId, certificateSerial, type CertificateBundle } from '../mock/domain/model.js';
import { startTestMock, type TestMock } from './support/mock.js';

/**
 * The Transaction API over HTTP. Fixtures are picked from the running mock's
 * registry (setup only); every assertion reads the mock back over HTTP.
 */
let mock: TestMock;
before(async () => {
  mock = await startTestMock('mock-transaction');
});
after(() => mock?.close());
beforeEach(async () => {
  await mock.admin('POST', '/__admin/reset');
});

const EOLIEN_ISSUING = '643003000000000005';
const EOLIEN_TRADING = '643003000000000002';
const VOLTA_TRADING = '643006000000000002';
const VOLTA_INACTIVE = '643006000000000007';
const VOLTA_GAS = '643006000000000004';
const TRANSALP_LOCKED = '643007000000000004';
const T = '/transactionapi/AH/transactionapi';

const bundleIn = (account: string, status: CertificateBundle['status'] = 'Active', minVolume = 3): CertificateBundle => {
  const today = mock.app.registry.today();
  const found = mock.app.registry
    .bundlesIn(account)
    .filter((bundle) => bundle.status === status && bundle.volumeMWh >= minVolume && (status !== 'Active' || bundle.expiryDate >= today))
    .sort((a, b) => a.startCertificateId.localeCompare(b.startCertificateId))[0];
  assert.ok(found, `a ${status} bundle of ${minVolume}+ MWh in ${account}`);
  return structuredClone(found);
};
/** A bundle of the given status in any account of Éolien du Ponant (history bundles sit in its trading accounts). */
const eolien = (status: CertificateBundle['status']): CertificateBundle => {
  const found = [...mock.app.registry.bundles.values()].find((bundle) => bundle.accountNumber.startsWith('643003') && bundle.status === status);
  assert.ok(found, `an Éolien bundle that is ${status}`);
  return structuredClone(found);
};
const range = (bundle: CertificateBundle, from: number, to: number) => {
  const start = certificateSerial(bundle.startCertificateId) as number;
  return { startCertificateId: certificateId(start + from), endCertificateId: certificateId(start + to) };
};

const certificatesOf = (username: string, account: string): Promise<CertificateBundle[]> =>
  mock.readAll(username, `/privatereportsapi/AH/privatereportsapi/Certificates?$filter=${encodeURIComponent(`accountNumber eq '${account}'`)}`);

const state = async () => (await mock.admin('GET', '/__admin/state')).json;
/** A refused write leaves the registry as it was. */
async function refused(reply: { status: number; json: any; text: string }, status: number, code: string, before: unknown): Promise<void> {
  assert.equal(reply.status, status, reply.text);
  assert.equal(reply.json.responseCode, code);
  assert.deepEqual({ ...(await state()), clock: 0, journal: 0 }, { ...(before as object), clock: 0, journal: 0 });
}

describe('POST Transfers', () => {
  it('moves a range out of the middle of a bundle: three parts, same issuance, volume conserved', async () => {
    const bundle = bundleIn(EOLIEN_ISSUING, 'Active', 10);
    const moved = range(bundle, 3, 6);
    const reply = await mock.request('POST', `${T}/Transfers`, {
      token: await mock.token('eolien-trader'),
      body: { fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [moved] },
    });
    assert.equal(reply.status, 201, reply.text);
    assert.equal(reply.json.responseCode, 'TRANSACTION_201');
    const id = /Transaction id: ([0-9a-f-]{36})\./.exec(reply.json.responseMessage)?.[1];
    assert.ok(id, reply.json.responseMessage);

    const transaction = await mock.request('GET', `${T}/Transactions/${id}`, { token: await mock.token('eolien-trader') });
    assert.equal(transaction.status, 200);
    assert.equal(transaction.json.type, 'Transfer');
    assert.equal(transaction.json.status, 'Completed');
    assert.equal(transaction.json.volumeMWh, 4);
    assert.deepEqual(transaction.json.bundles, [moved]);

    const received = (await certificatesOf('volta-trader', VOLTA_TRADING)).filter((b) => b.startCertificateId === moved.startCertificateId);
    assert.deepEqual(received.map((b) => [b.startCertificateId, b.endCertificateId, b.volumeMWh, b.status]), [[moved.startCertificateId, moved.endCertificateId, 4, 'Active']]);
    const kept = (await certificatesOf('eolien-trader', EOLIEN_ISSUING)).filter((b) => b.issuanceId === bundle.issuanceId && b.status === 'Active');
    const before = kept.find((b) => b.startCertificateId === bundle.startCertificateId);
    const afterPart = kept.find((b) => b.endCertificateId === bundle.endCertificateId);
    assert.ok(before && afterPart, 'the parts before and after stay in the source account');
    assert.equal(before.volumeMWh + 4 + afterPart.volumeMWh, bundle.volumeMWh, 'volume is conserved');
    assert.equal(before.volumeMWh, 3);
    for (const part of [before, afterPart, ...received]) assert.equal(part.expiryDate, bundle.expiryDate);
  });

  it('is visible to both organisations, and to nobody else', async () => {
    const bundle = bundleIn(EOLIEN_ISSUING);
    const reply = await mock.request('POST', `${T}/Transfers`, {
      token: await mock.token('eolien-trader'),
      body: { fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [range(bundle, 0, 0)] },
    });
    const id = /Transaction id: ([0-9a-f-]{36})/.exec(reply.json.responseMessage)?.[1];
    for (const [user, status] of [['eolien-trader', 200], ['volta-trader', 200], ['hydro-trader', 404]] as const) {
      const read = await mock.request('GET', `${T}/Transactions/${id}`, { token: await mock.token(user) });
      assert.equal(read.status, status, user);
      if (status === 404) assert.equal(read.json.responseCode, 'TRANSACTION_001');
    }
    const ib = await mock.request('GET', `/transactionapi/IB/transactionapi/Transactions/${id}`, { token: await mock.token('ib-ah-viewer') });
    assert.equal(ib.status, 200);
    const list = await mock.request('GET', `${T}/Transactions?$top=5&$filter=${encodeURIComponent(`transactionId eq '${id}'`)}`, { token: await mock.token('volta-trader') });
    assert.equal(list.json.length, 1);
    const mine = await mock.request('GET', `${T}/Transactions?$top=500`, { token: await mock.token('hydro-trader') });
    const hydro = new Set(mock.app.registry.accountsOf(mock.app.registry.accounts.get('643004000000000001')?.organizationId as string).map((a) => a.accountNumber));
    for (const transaction of mine.json) assert.ok(hydro.has(transaction.fromAccountNumber) || hydro.has(transaction.toAccountNumber), 'only its own');
    const missing = await mock.request('GET', `/transactionapi/IB/transactionapi/Transactions/00000000-0000-4000-8000-000000000000`, { token: await mock.token('ib-root') });
    assert.equal(missing.json.responseCode, 'TRANSACTION_001');
  });

  const refusals: [string, number, string, () => object][] = [
    ['an account of another organisation', 403, 'TRANSACTION_003', () => ({ fromAccountNumber: VOLTA_TRADING, toAccountNumber: EOLIEN_TRADING, bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 0)] })],
    ['the same account on both sides', 400, 'TRANSACTION_022', () => ({ fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: EOLIEN_ISSUING, bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 0)] })],
    ['a destination that does not exist', 400, 'TRANSACTION_027', () => ({ fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: '643099000000000001', bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 0)] })],
    ['a locked destination', 400, 'TRANSACTION_023', () => ({ fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: TRANSALP_LOCKED, bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 0)] })],
    ['an inactive destination', 400, 'TRANSACTION_023', () => ({ fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_INACTIVE, bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 0)] })],
    ['a range spanning past its bundle', 400, 'TRANSACTION_026', () => {
      const bundle = bundleIn(EOLIEN_ISSUING);
      return { fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [range(bundle, bundle.volumeMWh - 1, bundle.volumeMWh)] };
    }],
    ['certificates held by someone else', 400, 'TRANSACTION_026', () => ({ fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [range(bundleIn(VOLTA_TRADING), 0, 0)] })],
    ['expired certificates', 400, 'TRANSACTION_021', () => {
      const bundle = eolien('Expired');
      return { fromAccountNumber: bundle.accountNumber, toAccountNumber: VOLTA_TRADING, bundles: [range(bundle, 0, 0)] };
    }],
    ['cancelled certificates', 400, 'TRANSACTION_020', () => {
      const bundle = eolien('Cancelled');
      return { fromAccountNumber: bundle.accountNumber, toAccountNumber: VOLTA_TRADING, bundles: [range(bundle, 0, 0)] };
    }],
    ['another standard at the destination', 400, 'TRANSACTION_024', () => ({ fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_GAS, bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 0)] })],
    ['a range whose start is after its end', 400, 'TRANSACTION_002', () => {
      const bundle = bundleIn(EOLIEN_ISSUING);
      return { fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [{ startCertificateId: range(bundle, 2, 2).startCertificateId, endCertificateId: range(bundle, 1, 1).endCertificateId }] };
    }],
    ['overlapping ranges', 400, 'TRANSACTION_002', () => {
      const bundle = bundleIn(EOLIEN_ISSUING);
      return { fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [range(bundle, 0, 1), range(bundle, 1, 2)] };
    }],
  ];
  for (const [what, status, code, body] of refusals) {
    it(`refuses ${what}: ${status} ${code}, and nothing moves`, async () => {
      const before = await state();
      const reply = await mock.request('POST', `${T}/Transfers`, { token: await mock.token('eolien-trader'), body: body() });
      await refused(reply, status, code, before);
    });
  }

  it('refuses from a locked account: 400 TRANSACTION_028', async () => {
    const before = await state();
    const reply = await mock.request('POST', `${T}/Transfers`, {
      token: await mock.token('transalp-trader'),
      body: { fromAccountNumber: TRANSALP_LOCKED, toAccountNumber: VOLTA_TRADING, bundles: [range(bundleIn(TRANSALP_LOCKED), 0, 0)] },
    });
    await refused(reply, 400, 'TRANSACTION_028', before);
  });

  it('refuses the same transfer twice within 10 minutes (409 TRANSACTION_025), and accepts it again later', async () => {
    const bundle = bundleIn(EOLIEN_ISSUING, 'Active', 4);
    const body = { fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [range(bundle, 0, 0)] };
    const token = await mock.token('eolien-trader');
    assert.equal((await mock.request('POST', `${T}/Transfers`, { token, body })).status, 201);
    const before = await state();
    await refused(await mock.request('POST', `${T}/Transfers`, { token, body }), 409, 'TRANSACTION_025', before);
    await mock.admin('POST', '/__admin/clock', { advance: 'PT11M' });
    // Certificates left: the same body now names certificates that moved, so the rule after the window is TRANSACTION_026.
    assert.equal((await mock.request('POST', `${T}/Transfers`, { token, body })).json.responseCode, 'TRANSACTION_026');
  });
});

describe('POST Exports', () => {
  it('reserves the certificates, Pending, until the AIB Hub confirms: then Exported and Completed', async () => {
    const bundle = bundleIn(EOLIEN_ISSUING, 'Active', 5);
    const token = await mock.token('eolien-trader');
    const reply = await mock.request('POST', `${T}/Exports`, {
      token,
      body: { fromAccountNumber: EOLIEN_ISSUING, bundles: [range(bundle, 0, 1)], destinationDomain: 'DE-UBA', destinationAccountNumber: 'DE1234567890' },
    });
    assert.equal(reply.status, 201, reply.text);
    const id = /Transaction id: ([0-9a-f-]{36})/.exec(reply.json.responseMessage)?.[1];
    const pending = await mock.request('GET', `${T}/Transactions/${id}`, { token });
    assert.equal(pending.json.status, 'Pending');
    const reserved = (await certificatesOf('eolien-trader', EOLIEN_ISSUING)).find((b) => b.startCertificateId === bundle.startCertificateId);
    assert.equal(reserved?.status, 'Reserved');
    const again = await mock.request('POST', `${T}/Transfers`, { token, body: { fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [range(bundle, 0, 0)] } });
    assert.equal(again.json.responseCode, 'TRANSACTION_020', 'reserved certificates cannot move');
    await mock.admin('POST', '/__admin/clock', { advance: 'PT6M' });
    const done = await mock.request('GET', `${T}/Transactions/${id}`, { token });
    assert.equal(done.json.status, 'Completed');
    const exported = (await certificatesOf('eolien-trader', EOLIEN_ISSUING)).find((b) => b.startCertificateId === bundle.startCertificateId);
    assert.equal(exported?.status, 'Exported');
  });

  for (const [what, domain] of [['an unknown domain', 'XX-NOWHERE'], ['an inactive domain', 'PL-TGE']] as const) {
    it(`refuses ${what}: 400 EXPORT_040`, async () => {
      const before = await state();
      const reply = await mock.request('POST', `${T}/Exports`, {
        token: await mock.token('eolien-trader'),
        body: { fromAccountNumber: EOLIEN_ISSUING, bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 0)], destinationDomain: domain, destinationAccountNumber: 'X1234567' },
      });
      if (reply.json?.responseCode === 'TRANSACTION_002') return; // the domain pattern refused it earlier: also a refusal, checked below
      await refused(reply, 400, 'EXPORT_040', before);
    });
  }

  it('refuses expired, locked and foreign sources like a transfer', async () => {
    const token = await mock.token('eolien-trader');
    const base = { destinationDomain: 'DE-UBA', destinationAccountNumber: 'DE1234567890' };
    const old = eolien('Expired');
    const expired = await mock.request('POST', `${T}/Exports`, { token, body: { ...base, fromAccountNumber: old.accountNumber, bundles: [range(old, 0, 0)] } });
    assert.equal(expired.json.responseCode, 'TRANSACTION_021');
    const used = eolien('Cancelled');
    const cancelled = await mock.request('POST', `${T}/Exports`, { token, body: { ...base, fromAccountNumber: used.accountNumber, bundles: [range(used, 0, 0)] } });
    assert.equal(cancelled.json.responseCode, 'TRANSACTION_020');
    const foreign = await mock.request('POST', `${T}/Exports`, { token, body: { ...base, fromAccountNumber: VOLTA_TRADING, bundles: [range(bundleIn(VOLTA_TRADING), 0, 0)] } });
    assert.equal(foreign.json.responseCode, 'TRANSACTION_003');
    const outside = await mock.request('POST', `${T}/Exports`, { token, body: { ...base, fromAccountNumber: EOLIEN_ISSUING, bundles: [range(bundleIn(VOLTA_TRADING), 0, 0)] } });
    assert.equal(outside.json.responseCode, 'TRANSACTION_026');
    const locked = await mock.request('POST', `${T}/Exports`, { token: await mock.token('transalp-trader'), body: { ...base, fromAccountNumber: TRANSALP_LOCKED, bundles: [range(bundleIn(TRANSALP_LOCKED), 0, 0)] } });
    assert.equal(locked.json.responseCode, 'TRANSACTION_028');
    const body = { ...base, fromAccountNumber: EOLIEN_ISSUING, bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 0)] };
    assert.equal((await mock.request('POST', `${T}/Exports`, { token, body })).status, 201);
    assert.equal((await mock.request('POST', `${T}/Exports`, { token, body })).json.responseCode, 'TRANSACTION_025');
    const reversed = await mock.request('POST', `${T}/Exports`, { token, body: { ...body, bundles: [{ startCertificateId: range(bundleIn(EOLIEN_ISSUING), 2, 2).startCertificateId, endCertificateId: range(bundleIn(EOLIEN_ISSUING), 1, 1).endCertificateId }] } });
    assert.equal(reversed.json.responseCode, 'TRANSACTION_002');
  });
});

describe('POST Cancellations', () => {
  const cancellation = (bundle: CertificateBundle, overrides: object = {}) => ({
    fromAccountNumber: EOLIEN_ISSUING,
    bundles: [range(bundle, 0, 1)],
    beneficiaryName: 'Boulangerie Martin SARL',
    beneficiaryCountry: 'FR',
    consumptionPeriodStart: bundle.productionPeriodStart,
    consumptionPeriodEnd: bundle.productionPeriodEnd,
    purpose: 'SUPPLIER_DISCLOSURE',
    placeOfConsumption: 'Brest, Bretagne',
    ...overrides,
  });

  it('cancels for a beneficiary in the production month: bundles Cancelled, a Cancellation transaction', async () => {
    const bundle = bundleIn(EOLIEN_ISSUING, 'Active', 3);
    const token = await mock.token('eolien-trader');
    const reply = await mock.request('POST', `${T}/Cancellations`, { token, body: cancellation(bundle) });
    assert.equal(reply.status, 201, reply.text);
    const id = /Transaction id: ([0-9a-f-]{36})/.exec(reply.json.responseMessage)?.[1];
    const transaction = await mock.request('GET', `${T}/Transactions/${id}`, { token });
    assert.equal(transaction.json.type, 'Cancellation');
    assert.equal(transaction.json.toAccountNumber, null);
    const cancelled = (await certificatesOf('eolien-trader', EOLIEN_ISSUING)).find((b) => b.startCertificateId === bundle.startCertificateId);
    assert.equal(cancelled?.status, 'Cancelled');
    assert.equal(cancelled?.volumeMWh, 2);
  });

  const bad: [string, string, (bundle: CertificateBundle) => object][] = [
    ['a consumption month other than the production month', 'CANCELLATION_030', (b) => {
      const next = new Date(`${b.productionPeriodStart}T00:00:00Z`);
      next.setUTCMonth(next.getUTCMonth() + 1);
      const month = next.toISOString().slice(0, 7);
      return { consumptionPeriodStart: `${month}-01`, consumptionPeriodEnd: `${month}-28` };
    }],
    ['no beneficiary', 'CANCELLATION_031', () => ({ beneficiaryName: '   ' })],
    ['no beneficiary country', 'CANCELLATION_031', () => ({ beneficiaryCountry: undefined })],
    ['a purpose that is not in the code list', 'CANCELLATION_032', () => ({ purpose: 'BECAUSE' })],
    ['a consumption period that ends before it starts', 'TRANSACTION_002', (b) => ({ consumptionPeriodStart: b.productionPeriodEnd, consumptionPeriodEnd: b.productionPeriodStart })],
  ];
  for (const [what, code, overrides] of bad) {
    it(`refuses ${what}: ${code}, and nothing is cancelled`, async () => {
      const bundle = bundleIn(EOLIEN_ISSUING, 'Active', 3);
      if (bundle.productionPeriodStart === bundle.productionPeriodEnd && code === 'TRANSACTION_002') return;
      const before = await state();
      const reply = await mock.request('POST', `${T}/Cancellations`, { token: await mock.token('eolien-trader'), body: cancellation(bundle, overrides(bundle)) });
      await refused(reply, 400, code, before);
    });
  }

  it('refuses expired, reserved, locked, foreign and duplicate cancellations like a transfer', async () => {
    const token = await mock.token('eolien-trader');
    const old = eolien('Expired');
    assert.equal((await mock.request('POST', `${T}/Cancellations`, { token, body: cancellation(old, { fromAccountNumber: old.accountNumber, bundles: [range(old, 0, 0)] }) })).json.responseCode, 'TRANSACTION_021');
    const used = eolien('Cancelled');
    assert.equal((await mock.request('POST', `${T}/Cancellations`, { token, body: cancellation(used, { fromAccountNumber: used.accountNumber, bundles: [range(used, 0, 0)] }) })).json.responseCode, 'TRANSACTION_020');
    assert.equal((await mock.request('POST', `${T}/Cancellations`, { token, body: cancellation(bundleIn(EOLIEN_ISSUING), { fromAccountNumber: VOLTA_TRADING }) })).json.responseCode, 'TRANSACTION_003');
    assert.equal((await mock.request('POST', `${T}/Cancellations`, { token, body: cancellation(bundleIn(VOLTA_TRADING), { bundles: [range(bundleIn(VOLTA_TRADING), 0, 0)] }) })).json.responseCode, 'TRANSACTION_026');
    const locked = bundleIn(TRANSALP_LOCKED);
    assert.equal((await mock.request('POST', `${T}/Cancellations`, { token: await mock.token('transalp-trader'), body: cancellation(locked, { fromAccountNumber: TRANSALP_LOCKED, bundles: [range(locked, 0, 0)] }) })).json.responseCode, 'TRANSACTION_028');
    const body = cancellation(bundleIn(EOLIEN_ISSUING, 'Active', 3));
    assert.equal((await mock.request('POST', `${T}/Cancellations`, { token, body })).status, 201);
    assert.equal((await mock.request('POST', `${T}/Cancellations`, { token, body })).json.responseCode, 'TRANSACTION_025');
  });
});

describe('POST Withdrawals (issuing body)', () => {
  it('withdraws certificates of any account: Withdrawn, a Withdrawal transaction', async () => {
    const bundle = bundleIn(TRANSALP_LOCKED, 'Active', 2);
    const token = await mock.token('ib-root');
    const reply = await mock.request('POST', '/transactionapi/IB/transactionapi/Withdrawals', { token, body: { accountNumber: TRANSALP_LOCKED, bundles: [range(bundle, 0, 0)], reason: 'Issued in error (meter data corrected).' } });
    assert.equal(reply.status, 201, reply.text);
    assert.equal(reply.json.responseCode, 'WITHDRAWAL_201');
    const withdrawn = (await certificatesOf('transalp-trader', TRANSALP_LOCKED)).find((b) => b.startCertificateId === bundle.startCertificateId);
    assert.equal(withdrawn?.status, 'Withdrawn');
    assert.equal(withdrawn?.volumeMWh, 1);
  });

  it('refuses certificates that are not Active (WITHDRAWAL_041), ranges outside the account (TRANSACTION_026), a blank reason (WITHDRAWAL_002)', async () => {
    const token = await mock.token('ib-root');
    const path = '/transactionapi/IB/transactionapi/Withdrawals';
    for (const [body, code] of [
      [{ accountNumber: eolien('Cancelled').accountNumber, bundles: [range(eolien('Cancelled'), 0, 0)], reason: 'x' }, 'WITHDRAWAL_041'],
      [{ accountNumber: EOLIEN_ISSUING, bundles: [range(bundleIn(VOLTA_TRADING), 0, 0)], reason: 'x' }, 'TRANSACTION_026'],
      [{ accountNumber: EOLIEN_ISSUING, bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 0)], reason: '  ' }, 'WITHDRAWAL_002'],
      [{ accountNumber: EOLIEN_ISSUING, bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 1), range(bundleIn(EOLIEN_ISSUING), 1, 1)], reason: 'x' }, 'WITHDRAWAL_002'],
    ] as const) {
      const before = await state();
      await refused(await mock.request('POST', path, { token, body }), 400, code, before);
    }
  });
});

describe('ScheduledTransactions', () => {
  const S = `${T}/ScheduledTransactions`;
  const inHours = (hours: number): string => new Date(mock.app.clock.now() + hours * 3_600_000).toISOString();

  it('inserts a batch, runs each item at its time with the transfer rules: Completed or Failed with the rule code', async () => {
    const bundle = bundleIn(EOLIEN_ISSUING, 'Active', 5);
    const token = await mock.token('eolien-trader');
    const good = { fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [range(bundle, 0, 1)], executeAt: inHours(2), reference: 'good-1' };
    const gas = { fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_GAS, bundles: [range(bundle, 2, 2)], executeAt: inHours(3), reference: 'bad-standard' };
    const reply = await mock.request('POST', S, { token, body: [good, gas] });
    assert.equal(reply.status, 201, reply.text);
    assert.equal(reply.json.responseCode, 'SCHEDULEDTRANSACTION_201');
    assert.match(reply.json.responseMessage, /: 2\.$/);
    const listed = (await mock.request('GET', `${S}?$top=100&$filter=${encodeURIComponent("reference eq 'good-1' or reference eq 'bad-standard'")}`, { token })).json;
    assert.deepEqual(listed.map((item: { status: string }) => item.status), ['Scheduled', 'Scheduled']);

    await mock.admin('POST', '/__admin/clock', { advance: 'PT4H' });
    const later = await mock.token('eolien-trader');
    const done = (await mock.request('GET', `${S}?$top=100&$filter=${encodeURIComponent("reference eq 'good-1' or reference eq 'bad-standard'")}&$orderby=executeAt`, { token: later })).json;
    assert.equal(done[0].status, 'Completed');
    assert.match(done[0].transactionId, /^[0-9a-f-]{36}$/);
    assert.equal(done[1].status, 'Failed');
    assert.equal(done[1].failureCode, 'TRANSACTION_024');
    assert.equal(done[0].executedAt, good.executeAt, 'it ran at its time on the mock clock');
    const one = await mock.request('GET', `${S}/${done[0].scheduledTransactionId}`, { token: later });
    assert.equal(one.json.status, 'Completed');
    const transaction = await mock.request('GET', `${T}/Transactions/${done[0].transactionId}`, { token: later });
    assert.equal(transaction.json.createdAt, good.executeAt);
    const moved = (await certificatesOf('volta-trader', VOLTA_TRADING)).find((b) => b.startCertificateId === bundle.startCertificateId);
    assert.equal(moved?.volumeMWh, 2);
  });

  it('cancels a Scheduled item (SCHEDULEDTRANSACTION_203), not twice (033), and not another organisation\'s (001)', async () => {
    const token = await mock.token('eolien-trader');
    const reply = await mock.request('POST', S, { token, body: [{ fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 0)], executeAt: inHours(5), reference: 'to-cancel' }] });
    assert.equal(reply.status, 201);
    const [item] = (await mock.request('GET', `${S}?$top=5&$filter=${encodeURIComponent("reference eq 'to-cancel'")}`, { token })).json;
    assert.equal((await mock.request('DELETE', `${S}/${item.scheduledTransactionId}`, { token: await mock.token('volta-trader') })).json.responseCode, 'SCHEDULEDTRANSACTION_001');
    assert.equal((await mock.request('GET', `${S}/${item.scheduledTransactionId}`, { token: await mock.token('volta-trader') })).json.responseCode, 'SCHEDULEDTRANSACTION_001');
    const deleted = await mock.request('DELETE', `${S}/${item.scheduledTransactionId}`, { token });
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal(deleted.json.responseCode, 'SCHEDULEDTRANSACTION_203');
    assert.equal((await mock.request('GET', `${S}/${item.scheduledTransactionId}`, { token })).json.status, 'Cancelled');
    assert.equal((await mock.request('DELETE', `${S}/${item.scheduledTransactionId}`, { token })).json.responseCode, 'SCHEDULEDTRANSACTION_033');
    await mock.admin('POST', '/__admin/clock', { advance: 'PT6H' });
    const later = await mock.token('eolien-trader');
    assert.equal((await mock.request('GET', `${S}/${item.scheduledTransactionId}`, { token: later })).json.status, 'Cancelled', 'a cancelled item never runs');
  });

  const refusals: [string, number, string, (hours: (h: number) => string) => object[]][] = [
    ['an item in the past', 400, 'SCHEDULEDTRANSACTION_032', (at) => [{ fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 0)], executeAt: at(-1) }]],
    ['an item between one account', 400, 'TRANSACTION_022', (at) => [{ fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: EOLIEN_ISSUING, bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 0)], executeAt: at(1) }]],
    ['an unknown destination', 400, 'TRANSACTION_027', (at) => [{ fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: '643099000000000009', bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 0)], executeAt: at(1) }]],
    ['another organisation\'s source', 403, 'TRANSACTION_003', (at) => [{ fromAccountNumber: VOLTA_TRADING, toAccountNumber: EOLIEN_TRADING, bundles: [range(bundleIn(VOLTA_TRADING), 0, 0)], executeAt: at(1) }]],
    ['overlapping ranges in an item', 400, 'SCHEDULEDTRANSACTION_002', (at) => [{ fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 1), range(bundleIn(EOLIEN_ISSUING), 1, 1)], executeAt: at(1) }]],
    ['an empty batch', 400, 'SCHEDULEDTRANSACTION_002', () => []],
  ];
  for (const [what, status, code, items] of refusals) {
    it(`refuses a batch with ${what}: ${code}, and inserts nothing`, async () => {
      const before = await state();
      const good = { fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [range(bundleIn(EOLIEN_ISSUING), 3, 3)], executeAt: inHours(1) };
      const batch = items(inHours);
      const reply = await mock.request('POST', S, { token: await mock.token('eolien-trader'), body: batch.length ? [good, ...batch] : [] });
      await refused(reply, status, code, before);
    });
  }

  it('refuses the same batch twice: 409 TRANSACTION_025', async () => {
    const token = await mock.token('eolien-trader');
    const body = [{ fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [range(bundleIn(EOLIEN_ISSUING), 0, 0)], executeAt: inHours(1) }];
    assert.equal((await mock.request('POST', S, { token, body })).status, 201);
    assert.equal((await mock.request('POST', S, { token, body })).json.responseCode, 'TRANSACTION_025');
  });
});

describe('time', () => {
  it('Active certificates expire 12 months after production, on the mock clock: Expiry transaction, then TRANSACTION_021', async () => {
    const bundle = bundleIn(EOLIEN_ISSUING, 'Active', 1);
    const after = new Date(`${bundle.expiryDate}T00:00:00Z`);
    after.setUTCDate(after.getUTCDate() + 2);
    await mock.admin('POST', '/__admin/clock', { now: after.toISOString() });
    const token = (await mock.admin('POST', '/__admin/token', { user: 'eolien-trader' })).json.access_token as string;
    const filter = encodeURIComponent(`accountNumber eq '${EOLIEN_ISSUING}'`);
    const expired = ((await mock.request('GET', `/privatereportsapi/AH/privatereportsapi/Certificates?$top=500&$filter=${filter}`, { token })).json as CertificateBundle[]).find((b) => b.bundleId === bundle.bundleId);
    assert.equal(expired?.status, 'Expired');
    const expiries = (await mock.request('GET', `${T}/Transactions?$top=500&$filter=${encodeURIComponent("type eq 'Expiry' and fromAccountNumber eq '" + EOLIEN_ISSUING + "'")}`, { token })).json;
    assert.ok(expiries.some((t: { bundles: { startCertificateId: string }[] }) => t.bundles[0].startCertificateId === bundle.startCertificateId));
    const reply = await mock.request('POST', `${T}/Transfers`, { token, body: { fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [range(bundle, 0, 0)] } });
    assert.equal(reply.json.responseCode, 'TRANSACTION_021');
  });
});

describe('identifiers and bodies the model refuses', () => {
  it('answers _002 to an id that is not a UUID, on every read and delete by id', async () => {
    const cases: [string, string, string, string][] = [
      ['GET', `${T}/Transactions/not-a-uuid`, 'eolien-trader', 'TRANSACTION_002'],
      ['GET', '/transactionapi/IB/transactionapi/Transactions/not-a-uuid', 'ib-root', 'TRANSACTION_002'],
      ['GET', `${T}/ScheduledTransactions/not-a-uuid`, 'eolien-trader', 'SCHEDULEDTRANSACTION_002'],
      ['DELETE', `${T}/ScheduledTransactions/not-a-uuid`, 'eolien-trader', 'SCHEDULEDTRANSACTION_002'],
    ];
    for (const [method, path, user, code] of cases) {
      const reply = await mock.request(method, path, { token: await mock.token(user) });
      assert.equal(reply.status, 400, `${method} ${path}`);
      assert.equal(reply.json.responseCode, code);
      assert.match(reply.json.responseMessage, /Id/);
    }
  });

  it('answers SCHEDULEDTRANSACTION_004 to a DELETE that sends a body of another type, and cancels nothing', async () => {
    const [item] = [...mock.app.registry.scheduled.values()].filter((candidate) => candidate.status === 'Scheduled' && candidate.fromAccountNumber.startsWith('643003'));
    assert.ok(item, 'the fixtures schedule a transfer of Éolien');
    const reply = await mock.request('DELETE', `${T}/ScheduledTransactions/${item.scheduledTransactionId}`, { token: await mock.token('eolien-trader'), body: 'please', contentType: 'text/plain' });
    assert.equal(reply.status, 400);
    assert.equal(reply.json.responseCode, 'SCHEDULEDTRANSACTION_004');
    const after = await mock.request('GET', `${T}/ScheduledTransactions/${item.scheduledTransactionId}`, { token: await mock.token('eolien-trader') });
    assert.equal(after.json.status, 'Scheduled');
  });
});

describe('GET Transactions: newest first, whatever order they were made in', () => {
  it('lists by createdAt, newest first, after transfers made with the clock moved forward and set back; one transaction is found by id only by who may see it', async () => {
    // Tokens made now: the clock goes back two hours, before a token made at the start would be valid.
    const fresh = async (user: string): Promise<string> => (await mock.admin('POST', '/__admin/token', { user })).json.access_token;
    const bundle = bundleIn(EOLIEN_ISSUING, 'Active', 10);
    const start = Date.parse((await mock.admin('GET', '/__admin/clock')).json.now);
    const made: { id: string; at: number }[] = [];
    // A first read puts the fixtures' history in order; what follows is recorded after it.
    assert.equal((await mock.request('GET', '/transactionapi/IB/transactionapi/Transactions?$top=1', { token: await fresh('ib-root') })).status, 200);
    // Forward, forward, then back before the first: the registry records them in that order.
    for (const [offset, from] of [[0, 0], [3_600_000, 1], [-7_200_000, 2], [60_000, 3]] as const) {
      await mock.admin('POST', '/__admin/clock', { now: new Date(start + offset).toISOString() });
      const reply = await mock.request('POST', `${T}/Transfers`, { token: await fresh('eolien-trader'), body: { fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [range(bundle, from, from)] } });
      assert.equal(reply.status, 201, reply.text);
      made.push({ id: /Transaction id: ([0-9a-f-]{36})\./.exec(reply.json.responseMessage)?.[1] as string, at: start + offset });
    }
    for (const user of ['eolien-trader', 'ib-root']) {
      const prefix = user === 'ib-root' ? '/transactionapi/IB/transactionapi' : T;
      const list = (await mock.request('GET', `${prefix}/Transactions?$top=500`, { token: await fresh(user) })).json as { transactionId: string; createdAt: string }[];
      const times = list.map((transaction) => Date.parse(transaction.createdAt));
      assert.deepEqual(times, [...times].sort((a, b) => b - a), `${user}: newest first`);
      const order = made.map((transaction) => list.findIndex((listed) => listed.transactionId === transaction.id));
      assert.ok(order.every((index) => index >= 0), `${user} sees all four`);
      // By time: +1 h, +1 min, start, -2 h.
      assert.deepEqual([order[1], order[3], order[0], order[2]], [...order].sort((a, b) => a - b), `${user}: ${order}`);
    }
    // Read again (the answer the registry keeps until the next transaction), then once more after one more transfer.
    const listed = async (): Promise<string[]> =>
      ((await mock.request('GET', `${T}/Transactions?$top=500`, { token: await fresh('eolien-trader') })).json as { transactionId: string }[]).map((t) => t.transactionId);
    const before = await listed();
    assert.deepEqual(await listed(), before);
    await mock.admin('POST', '/__admin/clock', { now: new Date(start + 7_200_000).toISOString() });
    const last = await mock.request('POST', `${T}/Transfers`, { token: await fresh('eolien-trader'), body: { fromAccountNumber: EOLIEN_ISSUING, toAccountNumber: VOLTA_TRADING, bundles: [range(bundle, 5, 5)] } });
    assert.equal(last.status, 201, last.text);
    const after = await listed();
    assert.equal(after[0], /Transaction id: ([0-9a-f-]{36})\./.exec(last.json.responseMessage)?.[1], 'the newest comes first');
    assert.deepEqual(after.slice(1), before);
    assert.ok(!(await mock.request('GET', `${T}/Transactions?$top=500`, { token: await fresh('hydro-trader') })).json.some((t: { transactionId: string }) => after.includes(t.transactionId)), 'none of them for another holder');
    const one = await mock.request('GET', `${T}/Transactions/${made[2].id}`, { token: await fresh('eolien-trader') });
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.transactionId, made[2].id);
    const stranger = await mock.request('GET', `${T}/Transactions/${made[2].id}`, { token: await fresh('hydro-trader') });
    assert.equal(stranger.json.responseCode, 'TRANSACTION_001');
  });
});
