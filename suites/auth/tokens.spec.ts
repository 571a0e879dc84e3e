import { expect, test, type Grex } from '../support/fixtures.js';
import { contractProblems } from '../support/operations.js';

/** An operation every account holder's user may read, to try tokens on. */
const PROBE = { contract: 'management', operationId: 'ahGetOrganizations', path: '/AH/managementapi/Organizations' };

const claimsOf = (token: string): Record<string, any> => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));

/** A call with this token: the token is accepted when the answer is anything but 401 (a user without an AH role gets the permission 403). */
const probe = (grex: Grex, token?: string) => grex.http.api(PROBE.contract, 'GET', PROBE.path, { token, query: { $top: 1, $skip: 0 } });

function expectUnauthorised(reply: Awaited<ReturnType<typeof probe>>): void {
  expect(reply.response.status).toBe(401);
  expect(reply.response.headers['www-authenticate'] ?? '', 'a 401 says how to authenticate').toMatch(/^Bearer/i);
  expect(contractProblems(PROBE.contract, PROBE.operationId, reply)).toEqual([]);
}

test.describe('tokens (manual chapters 3 and 6)', { tag: '@readonly' }, () => {
  test('a refresh token rotates: each refresh answers a new refresh token and an access token the APIs accept', async ({ grex }) => {
    const seen = new Set<string>();
    for (let round = 0; round < 2; round++) {
      const tokens = await grex.session.refresh(grex.http);
      expect(tokens.refresh, 'B2C answers a refresh token with every refresh').toBeTruthy();
      expect(seen.has(tokens.refresh as string), 'a rotated refresh token is new').toBe(false);
      seen.add(tokens.refresh as string);
      const reply = await probe(grex, tokens.access);
      expect(reply.response.status, 'the new access token is accepted').not.toBe(401);
      expect(contractProblems(PROBE.contract, PROBE.operationId, reply)).toEqual([]);
    }
  });

  test('the access token is a B2C token for the API application, with a lifetime that ends', async ({ grex }) => {
    const { access } = await grex.session.refresh(grex.http);
    const claims = claimsOf(access);
    const { tenant, policy, appId } = grex.target.b2c;
    expect(claims.aud).toBe(appId);
    expect(String(claims.tfp ?? claims.acr).toLowerCase()).toBe(policy.toLowerCase());
    expect(claims.scp).toContain('user_impersonation');
    expect(claims.exp).toBeGreaterThan(claims.iat);
    expect(claims.exp - claims.iat, 'B2C access tokens live 5 to 1440 minutes').toBeGreaterThanOrEqual(300);
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(86_400);
    expect(String(claims.iss)).toContain(grex.target.name === 'demo' ? '' : tenant);
  });

  test('401 without a token, with a tampered signature, and with a token that is not a JWT', async ({ grex }) => {
    expectUnauthorised(await probe(grex));
    const token = await grex.session.token(grex.http, grex.target.admin ? 'eolien-root' : 'signed-in');
    const [header, payload, signature] = token.split('.');
    const tampered = `${header}.${payload}.${signature.slice(0, -4)}${signature.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    expectUnauthorised(await probe(grex, tampered));
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claimsOf(token), oid: '00000000-0000-4000-8000-000000000000' })).toString('base64url')}.${signature}`;
    expectUnauthorised(await probe(grex, forged));
    expectUnauthorised(await probe(grex, 'not-a-token'));
  });

  test('an access token past its expiry answers 401 (the mock clock moves past it)', { tag: '@mock' }, async ({ grex }) => {
    const issued = (await grex.http.admin('POST', '/__admin/token', { user: 'eolien-root', lifetimeSeconds: 300 })).response.json;
    expect((await probe(grex, issued.access_token)).response.status).toBe(200);
    // Five minutes and a second: every other test's token lives an hour, so they are untouched.
    await grex.http.admin('POST', '/__admin/clock', { advance: 'PT301S' });
    const reply = await probe(grex, issued.access_token);
    expectUnauthorised(reply);
    expect(reply.response.headers['www-authenticate']).toMatch(/expired/i);
  });
});
