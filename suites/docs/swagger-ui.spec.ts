import { expect, test } from '@playwright/test';

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
