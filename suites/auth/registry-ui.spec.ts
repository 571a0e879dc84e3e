import { expect, test } from '@playwright/test';

// Each test signs in its own user, so they may run side by side (MFA codes are per user).
// @mock: the MFA code comes from the mock's /__admin/mfa; on DEMO it is a text message to a phone.
/**
 * The registry UI's token, as the manual's chapter 4 describes it: sign in
 * in the browser (username, password, then the MFA code "sent by SMS"), and
 * the access token is in sessionStorage under `access_token`, usable at once
 * against the APIs.
 */
test('the registry UI signs in with PKCE and MFA and keeps the access token in sessionStorage', { tag: ['@readonly', '@mock'] }, async ({ page, request }) => {
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
  // The token's payload is UTF-8: "Hélène", not "HÃ©lÃ¨ne".
  const users: { username: string; displayName: string }[] = await (await request.get('/__admin/users')).json();
  const name = users.find((user) => user.username === 'eolien-trader')?.displayName ?? '';
  expect(name).toMatch(/[^\x00-\x7f]/);
  await expect(page.locator('#who')).toHaveText(new RegExp(`^${name} \\(`));
  const token = await page.evaluate(() => sessionStorage.getItem('access_token'));
  expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  await expect(page.locator('#token')).toHaveValue(token as string);

  const accounts = await request.get('/managementapi/AH/managementapi/Accounts?$top=3', { headers: { authorization: `Bearer ${token}` } });
  expect(accounts.status()).toBe(200);
  expect((await accounts.json()).length).toBe(3);
});

test('the UI refresh token rotates: each refresh answers a new refresh token and a working access token', { tag: ['@readonly', '@mock'] }, async ({ page, request }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('input[name="username"]').fill('soleil-trader');
  await page.locator('input[name="password"]').fill('Grex-Mock-2026!');
  await page.locator('form').first().locator('[type="submit"]').first().click();
  const mfa = await (await request.get('/__admin/mfa?user=soleil-trader')).json();
  await page.locator('input[name="code"]').fill(mfa.code);
  await page.locator('form').first().locator('[type="submit"]').first().click();
  await expect(page.locator('#signed-in')).toBeVisible();

  const config = await page.evaluate(() => ({ refresh: sessionStorage.getItem('refresh_token'), access: sessionStorage.getItem('access_token') }));
  expect(config.refresh?.split('.')).toHaveLength(5);
  expect(config.access, 'the access token is a JWT').toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  const claims = JSON.parse(Buffer.from((config.access as string).split('.')[1], 'base64url').toString());
  const seen = new Set([config.refresh]);
  let refresh = config.refresh as string;
  for (let round = 0; round < 2; round++) {
    const reply = await request.post('/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/oauth2/v2.0/token', {
      form: { grant_type: 'refresh_token', client_id: claims.azp, scope: `https://gcrfdemo.onmicrosoft.com/${claims.aud}/user_impersonation openid offline_access`, refresh_token: refresh },
    });
    expect(reply.status()).toBe(200);
    const tokens = await reply.json();
    expect(seen.has(tokens.refresh_token)).toBe(false);
    seen.add(tokens.refresh_token);
    refresh = tokens.refresh_token;
    const accounts = await request.get('/managementapi/AH/managementapi/Accounts?$top=1', { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(accounts.status()).toBe(200);
  }
});
