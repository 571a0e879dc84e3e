import { expect, test } from '@playwright/test';

/**
 * The registry UI's token, as the manual's chapter 4 describes it: sign in
 * in the browser (username, password, then the MFA code "sent by SMS"), and
 * the access token is in sessionStorage under `access_token`, usable at once
 * against the APIs.
 */
test('the registry UI signs in with PKCE and MFA and keeps the access token in sessionStorage', async ({ page, request }) => {
  await request.post('/__admin/reset');
  await page.goto('/');
  await page.getByRole('button', { name: 'Sign in' }).click();

  await expect(page).toHaveURL(/\/gcrfdemo\.onmicrosoft\.com\/B2C_1_SignIn\//);
  await page.locator('input[name="username"]').fill('eolien-trader');
  await page.locator('input[name="password"]').fill('Grex-Mock-2026!');
  await page.locator('form').first().locator('[type="submit"]').first().click();

  const mfa = await (await request.get('/__admin/mfa?user=eolien-trader')).json();
  expect(mfa.code).toMatch(/^\d{6}$/);
  await page.locator('input[name="code"]').fill(mfa.code);
  await page.locator('form').first().locator('[type="submit"]').first().click();

  await expect(page.locator('#signed-in')).toBeVisible();
  const token = await page.evaluate(() => sessionStorage.getItem('access_token'));
  expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  await expect(page.locator('#token')).toHaveValue(token as string);

  const accounts = await request.get('/managementapi/AH/managementapi/Accounts?$top=3', { headers: { authorization: `Bearer ${token}` } });
  expect(accounts.status()).toBe(200);
  expect((await accounts.json()).length).toBe(3);
});
