import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { certificateId, certificateSerial, type CertificateBundle } from '../mock/domain/model.js';
import { checkInvariants } from './support/invariants.js';
import { startTestMock, type TestMock } from './support/mock.js';

/**
 * The registry's two invariants, after a long seeded random sequence of
 * transfers, exports, cancellations, withdrawals, scheduled transfers,
 * issuances and clock jumps (which expire certificates and run what is due):
 * every issuance's volume is conserved, and no certificate id is in two
 * bundles. Inputs are drawn from the registry; the check reads everything
 * back over HTTP, as an issuing body would.
 */
let mock: TestMock;
before(async () => {
  mock = await startTestMock('mock-invariants');
});
after(() => mock?.close());

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('registry invariants', () => {
  it('hold on the fixtures', async () => {
    const counts = await checkInvariants(mock.readAll);
    assert.ok(counts.bundles > 500 && counts.issuances > 100, JSON.stringify(counts));
  });

  it('hold after 400 random operations, refused ones included', async () => {
    const random = mulberry32(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const registry = () => mock.app.registry;
    const tally: Record<string, number> = {};
    const traders = new Map<string, string>();
    for (const user of registry().users.values()) {
      if (user.status === 'Active' && user.roles.includes('AH Trader')) traders.set(user.organizationId, user.username);
    }
    const randomRange = (bundle: CertificateBundle) => {
      const first = certificateSerial(bundle.startCertificateId) as number;
      const from = first + Math.floor(random() * bundle.volumeMWh);
      const to = Math.min(first + bundle.volumeMWh - 1, from + Math.floor(random() * 5));
      return { startCertificateId: certificateId(from), endCertificateId: certificateId(to) };
    };
    for (let step = 0; step < 400; step++) {
      const active = [...registry().bundles.values()].filter((bundle) => bundle.status === 'Active');
      const bundle = pick(active);
      const from = registry().accounts.get(bundle.accountNumber);
      assert.ok(from);
      const trader = traders.get(from.organizationId);
      const kind = pick(['transfer', 'transfer', 'transfer', 'cancel', 'export', 'withdraw', 'schedule', 'issue', 'clock', 'nonsense']);
      let reply: { status: number; json: any } | undefined;
      if (kind === 'clock') {
        await mock.admin('POST', '/__admin/clock', { advance: pick(['PT3H', 'P1D', 'P10D', 'P31D']) });
      } else if (kind === 'issue') {
        const device = pick([...registry().devices.values()].filter((candidate) => candidate.status === 'Approved'));
        const now = new Date(mock.app.clock.now());
        const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
        const last = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 0));
        reply = await mock.request('POST', '/certificatecreationapi/IB/certificatecreationapi/Issuances', {
          token: await mock.token('ib-root'),
          body: {
            gsrn: device.gsrn,
            accountNumber: device.issuingAccountNumber,
            productionPeriodStart: month.toISOString().slice(0, 10),
            productionPeriodEnd: last.toISOString().slice(0, 10),
            volumeMWh: 1 + Math.floor(random() * 500),
            reason: 'Invariant test',
          },
        });
      } else if (trader) {
        const token = await mock.token(trader);
        const targets = [...registry().accounts.values()].filter((account) => account.accountNumber !== from.accountNumber && account.standardAssociation === from.standardAssociation);
        const ranges = [randomRange(bundle)];
        if (kind === 'transfer' || kind === 'nonsense') {
          const to = kind === 'nonsense' ? pick([...registry().accounts.values()]) : pick(targets);
          const body = { fromAccountNumber: from.accountNumber, toAccountNumber: to.accountNumber, bundles: kind === 'nonsense' ? [randomRange(pick(active))] : ranges };
          reply = await mock.request('POST', '/transactionapi/AH/transactionapi/Transfers', { token, body });
        } else if (kind === 'cancel') {
          reply = await mock.request('POST', '/transactionapi/AH/transactionapi/Cancellations', {
            token,
            body: {
              fromAccountNumber: from.accountNumber,
              bundles: ranges,
              beneficiaryName: 'Invariant SAS',
              beneficiaryCountry: 'FR',
              consumptionPeriodStart: bundle.productionPeriodStart,
              consumptionPeriodEnd: bundle.productionPeriodEnd,
              purpose: 'SUPPLIER_DISCLOSURE',
              placeOfConsumption: 'Paris',
            },
          });
        } else if (kind === 'export') {
          reply = await mock.request('POST', '/transactionapi/AH/transactionapi/Exports', {
            token,
            body: { fromAccountNumber: from.accountNumber, bundles: ranges, destinationDomain: 'BE-VREG', destinationAccountNumber: 'BE000123456' },
          });
        } else if (kind === 'withdraw') {
          reply = await mock.request('POST', '/transactionapi/IB/transactionapi/Withdrawals', { token: await mock.token('ib-root'), body: { accountNumber: from.accountNumber, bundles: ranges, reason: 'Invariant test' } });
        } else if (kind === 'schedule' && targets.length) {
          const executeAt = new Date(mock.app.clock.now() + (1 + Math.floor(random() * 48)) * 3_600_000).toISOString();
          reply = await mock.request('POST', '/transactionapi/AH/transactionapi/ScheduledTransactions', {
            token,
            body: [{ fromAccountNumber: from.accountNumber, toAccountNumber: pick(targets).accountNumber, bundles: ranges, executeAt }],
          });
        }
      }
      if (reply) {
        assert.ok(reply.status < 500, `step ${step} ${kind}: ${JSON.stringify(reply.json)}`);
        const key = `${kind} ${reply.status < 300 ? 'done' : 'refused'}`;
        tally[key] = (tally[key] ?? 0) + 1;
      }
    }
    for (const kind of ['transfer', 'cancel', 'export', 'issue']) assert.ok((tally[`${kind} done`] ?? 0) > 0, `some ${kind} succeeded: ${JSON.stringify(tally)}`);
    const state = (await mock.admin('GET', '/__admin/state')).json;
    assert.ok((state.bundles.Expired ?? 0) > 0 && (state.scheduled.Completed ?? 0) + (state.scheduled.Failed ?? 0) > 0, JSON.stringify(state));
    await checkInvariants(mock.readAll);
  });
});
