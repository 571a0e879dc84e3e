import { concretePath } from '../contracts/read-path.js';
import { expect, test, type Grex } from '../support/fixtures.js';
import { contractProblems, operationAt, WRITE_OPERATIONS } from '../support/operations.js';

/**
 * Writes and their domain codes. Every request here is one the registry
 * must refuse, so nothing changes; they are still writes, so on DEMO they
 * run only with GREX_DEMO_WRITES=1.
 */
const codeOf = (reply: { response: { json: any } }): string => String(reply.response.json?.responseCode);

for (const operation of WRITE_OPERATIONS.filter((candidate) => candidate.takesJson)) {
  test.describe(`${operation.operationId} refusals`, { tag: ['@write', `@${operation.contract}`] }, () => {
    const prepare = async (grex: Grex) => {
      const parent = operation.parent ? operationAt(operation.contract, operation.parent) : undefined;
      const as = await grex.session.userFor(grex.http, operation, parent);
      const concrete = await concretePath(grex, operation, as);
      test.skip('skip' in concrete, 'skip' in concrete ? concrete.skip : '');
      return { as, path: 'path' in concrete ? concrete.path : operation.path };
    };

    test(`${operation.operationId}: an empty JSON object answers its documented _002`, async ({ grex }) => {
      const { as, path } = await prepare(grex);
      const reply = await grex.call(operation.contract, operation.method, path, { as, body: {} });
      await grex.check('an empty JSON object answers the documented _002', () => {
        expect(reply.response.status).toBe(400);
        expect(codeOf(reply)).toMatch(/_002$/);
        expect(contractProblems(operation.contract, operation.operationId, reply)).toEqual([]);
      });
    });

    test(`${operation.operationId}: a body of another media type answers its documented _004`, async ({ grex }) => {
      const { as, path } = await prepare(grex);
      const reply = await grex.call(operation.contract, operation.method, path, { as, body: 'volume 10', contentType: 'text/plain' });
      await grex.check('a body of another media type answers the documented _004', () => {
        expect(reply.response.status).toBe(400);
        expect(codeOf(reply)).toMatch(/_004$/);
        expect(contractProblems(operation.contract, operation.operationId, reply)).toEqual([]);
      });
    });
  });
}

test.describe('transfer domain codes', { tag: ['@write', '@transaction'] }, () => {
  /** A range of one certificate the user holds: the first bundle of its certificates report. */
  const heldCertificate = async (grex: Grex, as: string) => {
    const report = await grex.call('private-reports', 'GET', '/AH/privatereportsapi/Certificates', { as, query: { $top: 5, $skip: 0 } });
    await grex.check('the certificates report names a certificate the user holds', () => expect(report.response.status).toBe(200));
    const bundle = (report.response.json as { accountNumber: string; startCertificateId: string }[])[0];
    test.skip(!bundle, 'the user holds no certificates to name in a transfer');
    return { accountNumber: bundle.accountNumber, range: { startCertificateId: bundle.startCertificateId, endCertificateId: bundle.startCertificateId } };
  };
  const trader = (grex: Grex) => (grex.target.admin ? 'eolien-root' : 'signed-in');

  test('ahCreateTransfer: the same account on both sides answers TRANSACTION_022', async ({ grex }) => {
    const as = trader(grex);
    const held = await heldCertificate(grex, as);
    const reply = await grex.call('transaction', 'POST', '/AH/transactionapi/Transfers', { as, body: { fromAccountNumber: held.accountNumber, toAccountNumber: held.accountNumber, bundles: [held.range] } });
    await grex.check('the same account on both sides answers TRANSACTION_022', () => {
      expect(reply.response.status).toBe(400);
      expect(codeOf(reply)).toBe('TRANSACTION_022');
      expect(contractProblems('transaction', 'ahCreateTransfer', reply)).toEqual([]);
    });
  });

  test('ahCreateTransfer: a destination that does not exist answers TRANSACTION_027', async ({ grex }) => {
    const as = trader(grex);
    const held = await heldCertificate(grex, as);
    const nowhere = `${held.accountNumber.slice(0, 4)}99${held.accountNumber.slice(6, -1)}9`;
    const reply = await grex.call('transaction', 'POST', '/AH/transactionapi/Transfers', { as, body: { fromAccountNumber: held.accountNumber, toAccountNumber: nowhere, bundles: [held.range] } });
    await grex.check('a destination that does not exist answers TRANSACTION_027', () => {
      expect(reply.response.status).toBe(400);
      expect(codeOf(reply)).toBe('TRANSACTION_027');
      expect(contractProblems('transaction', 'ahCreateTransfer', reply)).toEqual([]);
    });
  });
});
