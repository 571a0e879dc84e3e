import { expect, test, type Grex } from '../support/fixtures.js';
import type { Exchange } from '../support/http.js';

/**
 * The gateway's firewall (manual 1.3.1 and the note after Figure 31): a
 * request without a required header, or with input such as `/` or a
 * script, is stopped before the API with a 403 that is an HTML page, not
 * JSON, so a client must not parse it as the registry's envelope; a client
 * that keeps breaking the rules is blocked for a while. Probing it could get
 * the client blocked, so this suite never runs on DEMO.
 */
const ACCOUNTS = '/AH/managementapi/Accounts';
/** A second loopback address: the client the block test gets blocked, so the other tests' client is not. */
const SECOND_CLIENT = '127.0.0.2';

function expectGatewayPage(reply: Exchange): void {
  expect(reply.response.status).toBe(403);
  expect(reply.response.headers['content-type'] ?? '', 'the gateway answers a page').toMatch(/^text\/html/);
  expect(reply.response.json, 'the gateway page is not JSON').toBeUndefined();
  expect(reply.response.text).toMatch(/<html/i);
}

const read = async (grex: Grex, options: Parameters<Grex['call']>[3]) => grex.call('management', 'GET', ACCOUNTS, { as: 'eolien-root', query: { $top: 1, $skip: 0 }, ...options });

test.describe('firewall', { tag: '@limits' }, () => {
  test('the same request with the required headers passes the gateway', async ({ grex }) => {
    const reply = await read(grex, {});
    await grex.check('a request with every required header passes', () => expect(reply.response.status).toBe(200));
  });

  for (const header of ['accept', 'user-agent']) {
    test(`a request without ${header} is stopped with the gateway's HTML 403`, async ({ grex }) => {
      const reply = await read(grex, { omit: [header] });
      await grex.check(`without ${header}: the gateway's HTML 403`, () => expectGatewayPage(reply));
    });
  }

  for (const header of ['content-type', 'content-length']) {
    test(`a POST with a body but without ${header} is stopped with the gateway's HTML 403`, async ({ grex }) => {
      // Without Content-Length the body goes chunked, as a streaming client sends it (manual 1.3.1 asks for the length).
      const reply = await grex.call('transaction', 'POST', '/AH/transactionapi/Transfers', { as: 'eolien-root', body: {}, omit: [header] });
      await grex.check(`a body without ${header}: the gateway's HTML 403`, () => expectGatewayPage(reply));
    });
  }

  for (const [rule, value] of [
    // The manual's own example, on its own: a `/` in a value (an account name, a reference).
    ['slash', "name eq 'Achats/Ventes'"],
    ['script', '<script>alert(1)</script>'],
    ['url-scheme', 'https://example.com'],
    ['sql', "x' or '1'='1"],
    ['path-traversal', '../../etc/passwd'],
  ]) {
    test(`input the gateway refuses (${rule}) is stopped with its HTML 403`, async ({ grex }) => {
      const reply = await read(grex, { query: { $top: 1, $skip: 0, $filter: value } });
      await grex.check(`${JSON.stringify(value)} in a value: the gateway's HTML 403`, () => expectGatewayPage(reply));
    });
  }

  test('a client that keeps breaking the rules is blocked: even its good requests get the gateway page', { tag: '@mock' }, async ({ grex }) => {
    const { blockAfter } = (await grex.http.admin('GET', '/__admin/firewall')).response.json.config as { blockAfter: number };
    let offence: Exchange | undefined;
    for (let sent = 0; sent < blockAfter; sent++) {
      try {
        offence = await read(grex, { omit: ['accept'], from: SECOND_CLIENT });
      } catch (error) {
        test.skip((error as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL', `this machine has no loopback address ${SECOND_CLIENT} to send from`);
        throw error;
      }
    }
    await grex.check(`${blockAfter} requests without Accept: each stopped`, () => expectGatewayPage(offence as Exchange));
    const good = await read(grex, { from: SECOND_CLIENT });
    await grex.check('the blocked client\'s good request: the gateway\'s HTML 403', () => expectGatewayPage(good));
    const other = await read(grex, {});
    await grex.check('another client is not blocked', () => expect(other.response.status).toBe(200));
  });

  test('a permission 403 is the registry\'s JSON envelope, not the gateway page', { tag: '@mock' }, async ({ grex }) => {
    const reply = await grex.call('management', 'GET', '/AH/managementapi/Users', { as: 'eolien-trader', query: { $top: 1, $skip: 0 } });
    await grex.check('a permission 403 is the JSON envelope AUTH_003', () => {
      expect(reply.response.status).toBe(403);
      expect(reply.response.headers['content-type']).toMatch(/^application\/json/);
      expect(reply.response.json?.responseCode).toBe('AUTH_003');
      expect(reply.response.json?.statusCode, 'the envelope repeats the HTTP status').toBe(403);
    });
  });
});
