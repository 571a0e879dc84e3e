import { expect, test } from '@playwright/test';
import { exampleUserFor, exampleUsers } from '../../contracts/lib/examples.js';
import { loadContracts, type Contract } from '../../contracts/lib/load.js';
import type { Operation } from '../../contracts/lib/types.js';
import { docsPath } from '../../mock/docs.js';

/**
 * The documentation pages work in a browser with no network: the manual's
 * chapter 2.2.3 has users open them, find the swagger.json link under the
 * title and import it into Postman.
 */
test.describe('API documentation in the browser', { tag: ['@readonly', '@mock'] }, () => {
  test('the Management API page renders offline, with the manual example operation and its swagger.json link', async ({ page, baseURL }) => {
    const outside: string[] = [];
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      outside.push(url.href);
      return route.abort();
    });
    await page.goto('/managementapi/v2/');
    await expect(page.locator('.info .title')).toContainText('G-REX Management API');
    await expect(page.locator('.info a[href$="swagger.json"]')).toBeVisible();
    const operation = page.locator('.opblock-get', { hasText: '/AH/managementapi/Accounts/{accountNumber}' }).first();
    await expect(operation).toBeVisible();
    await operation.locator('.opblock-summary').click();
    await expect(operation.getByText('Get Accounts for organizations in the domain')).toBeVisible();
    await expect(operation.getByText('ACCOUNT_001').first()).toBeVisible();
    expect(outside, `requests that left the machine: ${outside.join(', ')}`).toEqual([]);
    expect(baseURL).toContain('127.0.0.1');
  });

  test('every API listed at /__docs/ opens a Swagger UI page with operations', async ({ page }) => {
    // Seven pages, each rendering a whole contract: on a loaded 2-core machine that outlasts one test's 30 s.
    test.slow();
    await page.goto('/__docs/');
    const links = await page.locator('li > a:first-child').evaluateAll((anchors) => anchors.map((a) => (a as HTMLAnchorElement).getAttribute('href') ?? ''));
    expect(links).toHaveLength(7);
    for (const link of links) {
      await page.goto(link);
      await expect(page.locator('.opblock').first()).toBeVisible();
    }
  });
});

/**
 * "Try it out" works as served: on one GET per API, the values Swagger UI
 * fills in from the contract's examples (path ids, `$filter`, `$orderby`)
 * answer 2xx, with the token of the fixture user the examples are written
 * for pasted into the Authorize dialog as a newcomer would.
 */
const contracts = loadContracts();
const users = exampleUsers(contracts);
const TRY_IT: { contract: string; path: string }[] = [
  { contract: 'certificate-creation', path: '/AH/certificatecreationapi/IssuanceRequests' },
  { contract: 'management', path: '/AH/managementapi/Accounts/{accountNumber}' },
  { contract: 'master-data', path: '/AH/masterdataapi/EnergySources' },
  { contract: 'private-reports', path: '/AH/privatereportsapi/Certificates' },
  { contract: 'public-reports', path: '/publicreportsapi/ProductionDevices' },
  { contract: 'transaction', path: '/AH/transactionapi/Transactions' },
  { contract: 'b2c', path: '/{tenant}.onmicrosoft.com/{policy}/v2.0/.well-known/openid-configuration' },
];

test.describe('"Try it out" with the prefilled values', { tag: ['@readonly', '@mock'] }, () => {
  for (const { contract: name, path } of TRY_IT) {
    test(`${name}: GET ${path} answers 2xx`, async ({ page, request }) => {
      test.slow();
      const contract = contracts.contracts.find((candidate) => candidate.name === name);
      const operation = contract?.doc.paths[path]?.get as Operation | undefined;
      expect(operation, `${name} has GET ${path}`).toBeTruthy();
      const user = exampleUserFor(operation as Operation, users);
      await page.goto(docsPath(contract as Contract));
      if (user) {
        const issued = await request.post('/__admin/token', { data: { user: user.username } });
        const { access_token: token } = (await issued.json()) as { access_token: string };
        await page.locator('.auth-wrapper .authorize').click();
        const dialog = page.locator('.modal-ux');
        await expect(dialog).toContainText('/__admin/token');
        await dialog.locator('input').first().fill(token);
        await dialog.locator('.auth-btn-wrapper .authorize').click();
        await dialog.locator('.auth-btn-wrapper .btn-done').click();
      }
      const block = page.locator('.opblock-get', { has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });
      await block.locator('.opblock-summary').click();
      await block.locator('.try-out__btn').click();
      await block.locator('.execute').click();
      const status = block.locator('.live-responses-table .response .response-col_status').first();
      await expect(status).toHaveText(/^2\d\d/, { timeout: 15_000 });
      await expect(block.locator('.request-url')).toContainText(new URL(page.url()).origin);
    });
  }
});

test.describe('CORS in a real browser', { tag: ['@readonly', '@mock'] }, () => {
  test('a page of another origin reads the APIs: a preflighted call with a token, and a 401 with its WWW-Authenticate', async ({ page, baseURL, request }) => {
    const api = new URL(baseURL ?? '').origin;
    // Another origin for the browser: localhost instead of 127.0.0.1, the same mock.
    await page.goto(`${api.replace('127.0.0.1', 'localhost')}/__docs/`);
    const { access_token: token } = (await (await request.post('/__admin/token', { data: { user: 'eolien-root' } })).json()) as { access_token: string };
    const answers = await page.evaluate(
      async ({ api, token }) => {
        const read = async (headers: Record<string, string>) => {
          const response = await fetch(`${api}/managementapi/AH/managementapi/Accounts?$top=2`, { headers });
          return { status: response.status, authenticate: response.headers.get('www-authenticate'), body: await response.text() };
        };
        return [await read({ authorization: `Bearer ${token}`, accept: 'application/json' }), await read({ accept: 'application/json' })];
      },
      { api, token },
    );
    expect(answers[0].status, answers[0].body).toBe(200);
    expect(JSON.parse(answers[0].body)).toHaveLength(2);
    expect(answers[1].status).toBe(401);
    expect(answers[1].authenticate).toContain('Bearer');
  });
});
