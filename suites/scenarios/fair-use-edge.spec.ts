import { expect, test } from '../support/fixtures.js';

/**
 * Another file, another scenario, another mock: Éolien du Ponant has one
 * request left in its fair-use minute. The shared mock, with its raised
 * limits, and the locked-account file's mock are not touched.
 */
test.use({ grexScenario: 'fair-use-edge' });

test.describe('scenario fair-use-edge', { tag: ['@limits', '@mock'] }, () => {
  test('one more request passes, the next answers 429 FAIRUSE_001 with Retry-After', async ({ grex }) => {
    const send = () => grex.call('master-data', 'GET', '/AH/masterdataapi/Countries', { as: 'eolien-trader', query: { $top: 1, $skip: 0 } });
    const last = await send();
    await grex.check('the last request of the minute passes', () => expect(last.response.status).toBe(200));
    const limited = await send();
    await grex.check('the next answers 429 FAIRUSE_001 with a Retry-After in seconds', () => {
      expect(limited.response.status).toBe(429);
      expect(limited.response.json.responseCode).toBe('FAIRUSE_001');
      expect(Number(limited.response.headers['retry-after'])).toBeGreaterThan(0);
    });
  });
});
