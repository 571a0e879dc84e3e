import { expect, test } from '../support/fixtures.js';
import { contractProblems, GET_OPERATIONS, operationAt } from '../support/operations.js';
import { concretePath } from './read-path.js';

/**
 * Every GET operation of the six contracts, one test each (the title names
 * the operationId): the answer's status is one the operation documents, its
 * body validates against that status's schema, and an envelope's code is one
 * listed for it. On the mock the user holds a role the operation grants, so
 * the answer must be 200; on DEMO the signed-in user's roles decide, and a
 * documented 403 is an answer too.
 */
for (const operation of GET_OPERATIONS) {
  test(`${operation.operationId}: GET ${operation.path} answers as its contract documents`, { tag: ['@readonly', `@${operation.contract}`] }, async ({ grex }) => {
    const as = await grex.session.userFor(grex.http, operation, operation.parent ? operationAt(operation.contract, operation.parent) : undefined);
    const concrete = await concretePath(grex, operation, as);
    test.skip('skip' in concrete, 'skip' in concrete ? concrete.skip : '');
    if (!('path' in concrete)) return;
    const query = operation.paging ? { $top: 5, $skip: 0 } : undefined;
    const reply = await grex.call(operation.contract, 'GET', concrete.path, { as, query });
    await grex.check(`${operation.operationId} answers as its contract documents`, () => {
      expect(contractProblems(operation.contract, operation.operationId, reply), `${operation.operationId} against its contract`).toEqual([]);
      if (grex.target.name === 'demo') {
        expect([200, 403], `${operation.operationId} as the signed-in user`).toContain(reply.response.status);
      } else {
        expect(reply.response.status, `${operation.operationId} as ${as ?? 'anonymous'}`).toBe(200);
      }
    });
  });
}
