import { expect, test, type Grex } from '../support/fixtures.js';
import type { Exchange } from '../support/http.js';

/**
 * The gateway's firewall (manual 1.3.1 and the note after Figure 31): a
 * request without a required header, or with input such as a script, is
 * stopped before the API with a 403 that is an HTML page, not JSON, so a
 * client must not parse it as the registry's envelope. Probing it could get
 * the client blocked, so this suite never runs on DEMO.
 */
const ACCOUNTS = '/AH/managementapi/Accounts';

function expectGatewayPage(reply: Exchange): void {
  expect(reply.response.status).toBe(403);
  expect(reply.response.headers['content-type'] ?? '', 'the gateway answers a page').toMatch(/^text\/html/);
  expect(reply.response.json, 'the gateway page is not JSON').toBeUndefined();
  expect(reply.response.text).toMatch(/<html/i);
}

const read = async (grex: Grex, options: Parameters<Grex['call']>[3]) => grex.call('management', 'GET', ACCOUNTS, { as: 'eolien-root', query: { $top: 1, $skip: 0 }, ...options });

test.describe('firewall', { tag: '@limits' }, () => {
  test('the same request with the required headers passes the gateway', async ({ grex }) => {
    expect((await read(grex, {})).response.status).toBe(200);
  });

  for (const header of ['accept', 'user-agent']) {
    test(`a request without ${header} is stopped with the gateway's HTML 403`, async ({ grex }) => {
      expectGatewayPage(await read(grex, { omit: [header] }));
    });
  }

  test('a POST without Content-Type is stopped with the gateway\'s HTML 403', async ({ grex }) => {
    expectGatewayPage(await grex.call('transaction', 'POST', '/AH/transactionapi/Transfers', { as: 'eolien-root', body: {}, omit: ['content-type'] }));
  });

  for (const [rule, value] of [
    ['script', '<script>alert(1)</script>'],
    ['url-scheme', 'https://example.com'],
    ['sql', "x' or '1'='1"],
    ['path-traversal', '../../etc/passwd'],
  ]) {
    test(`input the gateway refuses (${rule}) is stopped with its HTML 403`, async ({ grex }) => {
      expectGatewayPage(await read(grex, { query: { $top: 1, $skip: 0, $filter: value } }));
    });
  }

  test('a permission 403 is the registry\'s JSON envelope, not the gateway page', { tag: '@mock' }, async ({ grex }) => {
    const reply = await grex.call('management', 'GET', '/AH/managementapi/Users', { as: 'eolien-trader', query: { $top: 1, $skip: 0 } });
    expect(reply.response.status).toBe(403);
    expect(reply.response.headers['content-type']).toMatch(/^application\/json/);
    expect(reply.response.json?.responseCode).toBe('AUTH_003');
  });
});
