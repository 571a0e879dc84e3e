import { expect, test } from '../support/fixtures.js';

/**
 * A test file that starts from a named scenario (fixtures/scenarios/): its
 * tests run against a mock of their own in that situation. Here the account
 * Éolien du Ponant trades from is locked by the issuing body.
 */
test.use({ grexScenario: 'locked-account' });

test.describe('scenario locked-account', { tag: ['@write', '@mock'] }, () => {
  test('the locked account shows it, and moving its certificates answers TRANSACTION_028', async ({ grex }) => {
    const accounts = await grex.call('management', 'GET', '/AH/managementapi/Accounts', { as: 'eolien-trader', query: { $top: 500, $skip: 0 } });
    const locked = (accounts.response.json as { accountNumber: string; isLocked: boolean }[]).find((account) => account.isLocked);
    await grex.check('one of Éolien’s accounts shows it is locked', () => {
      expect(accounts.response.status).toBe(200);
      expect(locked).toBeDefined();
    });
    const held = await grex.call('private-reports', 'GET', '/AH/privatereportsapi/Certificates', {
      as: 'eolien-trader',
      query: { $top: 1, $skip: 0, $filter: `accountNumber eq '${locked!.accountNumber}' and status eq 'Active'` },
    });
    const [bundle] = held.response.json as { startCertificateId: string }[];
    await grex.check('the locked account still holds Active certificates', () => expect(bundle).toBeDefined());
    const others = await grex.call('management', 'GET', '/AH/managementapi/Accounts', { as: 'volta-trader', query: { $top: 1, $skip: 0 } });
    const transfer = await grex.call('transaction', 'POST', '/AH/transactionapi/Transfers', {
      as: 'eolien-trader',
      body: { fromAccountNumber: locked!.accountNumber, toAccountNumber: others.response.json[0].accountNumber, bundles: [{ startCertificateId: bundle.startCertificateId, endCertificateId: bundle.startCertificateId }] },
    });
    await grex.check('moving them answers 400 TRANSACTION_028', () => {
      expect(transfer.response.status).toBe(400);
      expect(transfer.response.json.responseCode).toBe('TRANSACTION_028');
    });
  });
});
