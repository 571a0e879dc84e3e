import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startMock, type RunningMock } from '../mock/server.js';

/**
 * The large profile keeps no second copy of its fixtures (they are about
 * 130 MB of objects): its registry owns the generated data, and a reset
 * generates it again from the seed. The same state must come back.
 */
describe('the large profile over HTTP', () => {
  let mock: RunningMock;
  /** The state summary without the clock, which runs with wall time. */
  const state = async (): Promise<object> => ({ ...(await admin('GET', '/__admin/state')), clock: undefined });
  const admin = async (method: string, path: string, body?: unknown): Promise<any> =>
    (await fetch(`${mock.url}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } })).json();
  before(async () => {
    mock = await startMock({ port: 0, host: '127.0.0.1', profile: 'large' });
  });
  after(() => mock?.close());

  it('changes state with a write, and reset brings back exactly the generated registry', async () => {
    const pristine = (await state()) as { organizations: number; bundles: Record<string, number> };
    assert.equal(pristine.organizations, 201, '200 active and the one inactive');
    const { access_token: token } = await admin('POST', '/__admin/token', { user: 'eolien-trader' });
    const headers = { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': 'application/json' };
    const accounts = (await (await fetch(`${mock.url}/managementapi/AH/managementapi/Accounts?$top=50&$skip=0`, { headers })).json()) as { accountNumber: string }[];
    const certificates = (await (
      await fetch(`${mock.url}/privatereportsapi/AH/privatereportsapi/Certificates?$top=1&$skip=0&$filter=${encodeURIComponent("status eq 'Active'")}`, { headers })
    ).json()) as { accountNumber: string; startCertificateId: string }[];
    assert.ok(certificates.length === 1, 'an active bundle to move');
    const [bundle] = certificates;
    const to = accounts.find((account) => account.accountNumber !== bundle.accountNumber) as { accountNumber: string };
    const transfer = await fetch(`${mock.url}/transactionapi/AH/transactionapi/Transfers`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ fromAccountNumber: bundle.accountNumber, toAccountNumber: to.accountNumber, bundles: [{ startCertificateId: bundle.startCertificateId, endCertificateId: bundle.startCertificateId }] }),
    });
    assert.equal(transfer.status, 201, await transfer.text());
    const changed = (await state()) as typeof pristine;
    assert.equal(Object.values(changed.bundles).reduce((a, b) => a + b), Object.values(pristine.bundles).reduce((a, b) => a + b) + 1, 'the transfer split a bundle');
    await admin('POST', '/__admin/reset');
    assert.deepEqual(await state(), pristine);
  });
});
