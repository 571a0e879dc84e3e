import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { expect, test, type Grex } from '../support/fixtures.js';
import type { Exchange } from '../support/http.js';
import { contractProblems } from '../support/operations.js';

/** An operation every account holder's user may read, to try tokens on. */
const PROBE = { contract: 'management', operationId: 'ahGetOrganizations', path: '/AH/managementapi/Organizations' };
/** A compact JWS: header, payload and signature, base64url. */
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/** The claims of an access token, once a check has asserted it is a JWT. */
function claimsOf(token: string): Record<string, any> {
  expect(token, 'the access token is a JWT (three base64url parts)').toMatch(JWT);
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** A call with this token: the token is accepted when the answer is anything but 401 (a user without an AH role gets the permission 403). */
const probe = (grex: Grex, token?: string) => grex.http.api(PROBE.contract, 'GET', PROBE.path, { token, query: { $top: 1, $skip: 0 } });

function expectUnauthorised(reply: Exchange): void {
  expect(reply.response.status).toBe(401);
  expect(reply.response.headers['www-authenticate'] ?? '', 'a 401 says how to authenticate').toMatch(/^Bearer/i);
  expect(contractProblems(PROBE.contract, PROBE.operationId, reply)).toEqual([]);
}

/** The manual's refresh (3.3), checked as one step: B2C answers its TokenResponse. */
const refresh = (grex: Grex) => grex.check("B2C answers the refresh with the contract's TokenResponse", () => grex.session.refresh(grex.http));

test.describe('tokens (manual chapters 3 and 6)', { tag: '@readonly' }, () => {
  test('a refresh token rotates: each refresh answers a new refresh token and an access token the APIs accept', async ({ grex }) => {
    const seen = new Set<string>();
    for (let round = 0; round < 2; round++) {
      const tokens = await refresh(grex);
      const reply = await probe(grex, tokens.access);
      await grex.check(`refresh ${round + 1}: a new refresh token, and an access token the APIs accept`, () => {
        expect(contractProblems('b2c', 'b2cRedeemToken', tokens.exchange as Exchange), "B2C's answer against the contract's TokenResponse").toEqual([]);
        expect(tokens.refresh, 'B2C answers a refresh token with every refresh').toBeTruthy();
        expect(seen.has(tokens.refresh as string), 'a rotated refresh token is new').toBe(false);
        expect(reply.response.status, 'the new access token is accepted').not.toBe(401);
        expect(contractProblems(PROBE.contract, PROBE.operationId, reply)).toEqual([]);
      });
      seen.add(tokens.refresh as string);
    }
  });

  test('the access token is a B2C token for the API application, with a lifetime that ends', async ({ grex }) => {
    const { access } = await refresh(grex);
    await grex.check('the access token carries the claims of a B2C token for the API application', () => {
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
  });

  test('the discovery document names the token endpoint the manual uses, and its keys sign the access tokens', async ({ grex }) => {
    const { access } = await refresh(grex);
    const { host, tenant, policy } = grex.target.b2c;
    const discovery = await grex.http.b2cGet('/v2.0/.well-known/openid-configuration');
    const document = discovery.response.json as { issuer: string; token_endpoint: string; jwks_uri: string };
    await grex.check('the discovery document is the contract\'s OpenIdConfiguration, for this policy', () => {
      expect(discovery.response.status).toBe(200);
      expect(contractProblems('b2c', 'b2cGetOpenIdConfiguration', discovery)).toEqual([]);
      // B2C writes the policy in lower case in its own URLs.
      expect(document.token_endpoint.toLowerCase(), 'the token endpoint of manual 3.3').toBe(`${host}/${tenant}.onmicrosoft.com/${policy}/oauth2/v2.0/token`.toLowerCase());
      expect(new URL(document.jwks_uri).origin, 'the keys are published by the tenant').toBe(new URL(host).origin);
      expect(claimsOf(access).iss, 'the tokens are issued by the issuer the document names').toBe(document.issuer);
    });
    const keys = await grex.http.b2cGet(document.jwks_uri);
    await grex.check('the published keys verify the access token\'s signature', () => {
      expect(keys.response.status).toBe(200);
      expect(contractProblems('b2c', 'b2cGetSigningKeys', keys)).toEqual([]);
      const [header, payload, signature] = access.split('.');
      const { kid, alg } = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { kid: string; alg: string };
      expect(alg).toBe('RS256');
      const jwk = (keys.response.json.keys as (JsonWebKey & { kid: string })[]).find((key) => key.kid === kid);
      expect(jwk, `a published key with the token's kid ${kid}`).toBeDefined();
      const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      expect(verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url')), 'the signature verifies').toBe(true);
    });
  });

  test('B2C refuses a refresh token it did not issue with its OAuth error (invalid_grant, AADB2C code)', async ({ grex }) => {
    const { clientId, appId, tenant } = grex.target.b2c;
    const reply = await grex.http.b2cToken({
      grant_type: 'refresh_token',
      client_id: clientId,
      scope: `https://${tenant}.onmicrosoft.com/${appId}/user_impersonation openid offline_access`,
      refresh_token: 'not-a-refresh-token',
    });
    await grex.check('400 invalid_grant with an AADB2C code, as the contract\'s OAuthError', () => {
      expect(reply.response.status).toBe(400);
      expect(contractProblems('b2c', 'b2cRedeemToken', reply)).toEqual([]);
      expect(reply.response.json?.error).toBe('invalid_grant');
      expect(String(reply.response.json?.error_description)).toMatch(/^AADB2C\d{5}: /);
    });
  });

  test('401 without a token, with a tampered signature, and with a token that is not a JWT', async ({ grex }) => {
    const anonymous = await probe(grex);
    await grex.check('without a token: 401', () => expectUnauthorised(anonymous));
    const token = await grex.session.token(grex.http, grex.target.admin ? 'eolien-root' : 'signed-in');
    const [header, payload, signature] = token.split('.');
    const tampered = await probe(grex, `${header}.${payload}.${signature.slice(0, -4)}${signature.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`);
    await grex.check('a tampered signature: 401', () => expectUnauthorised(tampered));
    const forged = await probe(grex, `${header}.${Buffer.from(JSON.stringify({ ...claimsOf(token), oid: '00000000-0000-4000-8000-000000000000' })).toString('base64url')}.${signature}`);
    await grex.check('a tampered payload: 401', () => expectUnauthorised(forged));
    const opaque = await probe(grex, 'not-a-token');
    await grex.check('a token that is not a JWT: 401', () => expectUnauthorised(opaque));
  });

  test('an access token past its expiry answers 401 (the mock clock moves past it)', { tag: '@mock' }, async ({ grex }) => {
    const issued = (await grex.http.admin('POST', '/__admin/token', { user: 'eolien-root', lifetimeSeconds: 300 })).response.json;
    const fresh = await probe(grex, issued.access_token);
    await grex.check('the token is accepted before its expiry', () => expect(fresh.response.status).toBe(200));
    // Five minutes and a second: every other test's token lives an hour, so they are untouched.
    await grex.http.admin('POST', '/__admin/clock', { advance: 'PT301S' });
    const reply = await probe(grex, issued.access_token);
    await grex.check('past its expiry: 401 saying it expired', () => {
      expectUnauthorised(reply);
      expect(reply.response.headers['www-authenticate']).toMatch(/expired/i);
    });
  });
});
