import { expect, test } from '../support/fixtures.js';
import { contractProblems, documentedCodes, GET_OPERATIONS } from '../support/operations.js';

const collections = GET_OPERATIONS.filter((operation) => operation.paging && operation.pathParameters.length === 0);
/** On DEMO one collection per API stands for the rest: the same gateway pages them, and the budget is small. */
const representatives = new Set(collections.filter((operation, index) => collections.findIndex((other) => other.contract === operation.contract) === index).map((operation) => operation.operationId));

/**
 * Paging bounds (manual 1.2 asks clients to page with $top and $skip): a
 * $top above the contract's maximum is refused with the operation's
 * documented _014 code (its _002 where it documents no _014), and a $skip
 * past the end answers an empty page, not an error.
 */
for (const operation of collections) {
  test.describe(`${operation.operationId} paging`, { tag: ['@readonly', `@${operation.contract}`] }, () => {
    test.beforeEach(({ grex }) => {
      test.skip(grex.target.name === 'demo' && !representatives.has(operation.operationId), 'on DEMO one collection per API is paged, to spare the fair-use budget');
    });

    test(`${operation.operationId}: $top above ${operation.paging?.maxTop ?? 'the maximum'} answers the documented 400 code`, async ({ grex }) => {
      test.skip(operation.paging?.maxTop === undefined, 'the contract sets no maximum $top');
      test.skip(!operation.statuses.includes('400'), 'the contract documents no 400 for it');
      const as = await grex.session.userFor(grex.http, operation);
      const reply = await grex.call(operation.contract, 'GET', operation.path, { as, query: { $top: (operation.paging?.maxTop as number) + 1, $skip: 0 } });
      const documented = [...documentedCodes(operation.operationId, 400)];
      const expected = documented.find((code) => code.endsWith('_014')) ?? documented.find((code) => code.endsWith('_002'));
      await grex.check(`a $top above the maximum answers ${expected ?? 'a _014 or _002'}`, () => {
        expect(reply.response.status).toBe(400);
        expect(contractProblems(operation.contract, operation.operationId, reply)).toEqual([]);
        const code = String(reply.response.json?.responseCode);
        // A document that lists no codes (G-REX's own swagger.json, GREX_CONTRACTS) leaves the manual's convention to check.
        if (expected) expect(code, `documented 400 codes: ${documented.join(', ')}`).toBe(expected);
        else expect(code).toMatch(/_(014|002)$/);
      });
    });

    test(`${operation.operationId}: $skip past the end answers an empty page`, async ({ grex }) => {
      test.skip(!operation.listAnswer, 'the answer is not a list');
      const as = await grex.session.userFor(grex.http, operation);
      const reply = await grex.call(operation.contract, 'GET', operation.path, { as, query: { $top: 5, $skip: 1_000_000 } });
      test.skip(grex.target.name === 'demo' && reply.response.status === 403, 'the signed-in user may not read this collection');
      await grex.check('a $skip past the end answers an empty page', () => {
        expect(reply.response.status).toBe(200);
        expect(contractProblems(operation.contract, operation.operationId, reply)).toEqual([]);
        expect(reply.response.json).toEqual([]);
      });
    });
  });
}
