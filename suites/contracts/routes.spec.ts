import { expect, test, type Grex } from '../support/fixtures.js';
import type { Exchange } from '../support/http.js';

/**
 * What answers a request no operation takes: a path the API does not have
 * is 404, and a path it has with a method it does not take is 405 with the
 * `Allow` header HTTP requires (RFC 9110, 15.5.6), so a client can tell a
 * wrong URL from a wrong method. A JSON answer's envelope repeats the status.
 */
const userOf = (grex: Grex): string => (grex.target.admin ? 'eolien-root' : 'signed-in');

function expectEnvelopeAgrees(reply: Exchange): void {
  const json = reply.response.json;
  if (json && typeof json === 'object' && 'statusCode' in json) expect(json.statusCode, 'the envelope repeats the HTTP status').toBe(reply.response.status);
}

test.describe('routes', () => {
  test('a path no operation has answers 404', { tag: '@readonly' }, async ({ grex }) => {
    const reply = await grex.call('management', 'GET', '/AH/managementapi/AccountHoldings', { as: userOf(grex), query: { $top: 1, $skip: 0 } });
    await grex.check('an unknown resource: 404', () => {
      expect(reply.response.status).toBe(404);
      expectEnvelopeAgrees(reply);
    });
  });

  // A write method, refused before anything is written; still a write, so on DEMO only with GREX_DEMO_WRITES=1.
  test('a path with a method it does not take answers 405 with Allow', { tag: '@write' }, async ({ grex }) => {
    const reply = await grex.call('management', 'DELETE', '/AH/managementapi/Accounts', { as: userOf(grex) });
    await grex.check('DELETE on the accounts collection: 405 listing the methods it takes', () => {
      expect(reply.response.status).toBe(405);
      const allowed = (reply.response.headers.allow ?? '').split(',').map((method) => method.trim().toUpperCase());
      expect(allowed, 'Allow names the methods the path takes').toEqual(expect.arrayContaining(['GET', 'POST']));
      expect(allowed).not.toContain('DELETE');
      expectEnvelopeAgrees(reply);
    });
  });
});
