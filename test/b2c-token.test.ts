import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SchemaValidator } from '../contracts/lib/schema.js';
import { TENANTS } from '../mock/app.js';
import { registryUiClientId, type AuthorizationCode } from '../mock/b2c/service.js';
import { startTestMock, type Reply, type TestMock } from './support/mock.js';

/**
 * B2C's token side over HTTP: redeeming codes (PKCE), refresh-token rotation
 * and expiry on the mock's clock, the OAuth errors in B2C's text format, and
 * the discovery document and keys that verify the tokens. Codes are put into
 * the B2C service directly (the sign-in pages are another suite's subject);
 * every assertion goes over HTTP.
 */

const DEMO = TENANTS.find((tenant) => tenant.name === 'gcrfdemo')!;
const PROD = TENANTS.find((tenant) => tenant.name === 'gcrfr')!;
const AUTHORITY = '/gcrfdemo.onmicrosoft.com/B2C_1_SignIn';
const TOKEN = `${AUTHORITY}/oauth2/v2.0/token`;
const API_SCOPE = `https://gcrfdemo.onmicrosoft.com/${DEMO.appId}/user_impersonation`;
const SCOPE = `${API_SCOPE} openid offline_access`;
const FORM = 'application/x-www-form-urlencoded';
const VERIFIER = 'Km8dxP7bn7qrWF5jlZisXQc-Cv3E0KdoElnb0j9o2l4-and-some-more_chars.~';
const S256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const DAY = 86_400_000;

let mock: TestMock;
before(async () => {
  mock = await startTestMock('b2c-token');
});
after(() => mock?.close());
beforeEach(async () => {
  assert.equal((await mock.admin('POST', '/__admin/reset')).status, 200);
  mock.app.b2c.strictRotation = false;
});

const userId = (username: string): string => mock.app.registry.usersByName.get(username)!.userId;

/** Setup: the code a completed sign-in of `eolien-trader` leaves behind (S256 challenge of VERIFIER unless overridden). */
function signedIn(overrides: Partial<AuthorizationCode> = {}): AuthorizationCode {
  const code: AuthorizationCode = {
    code: mock.app.b2c.opaqueToken(),
    tenant: 'gcrfdemo',
    policy: 'B2C_1_SignIn',
    clientId: DEMO.clientId,
    redirectUri: DEMO.replyUrl,
    scope: SCOPE,
    userId: userId('eolien-trader'),
    nonce: 'n-0S6_WzA2Mj',
    codeChallenge: S256(VERIFIER),
    codeChallengeMethod: 'S256',
    issuedAt: mock.app.clock.now(),
    redeemed: false,
    ...overrides,
  };
  mock.app.b2c.codes.set(code.code, code);
  return code;
}

const post = (fields: Record<string, string>, options: { path?: string; headers?: Record<string, string> } = {}): Promise<Reply> =>
  mock.request('POST', options.path ?? TOKEN, { body: new URLSearchParams(fields).toString(), contentType: FORM, headers: options.headers });

const redeemFields = (code: AuthorizationCode, extra: Record<string, string> = {}): Record<string, string> => ({
  grant_type: 'authorization_code',
  client_id: code.clientId,
  scope: SCOPE,
  code: code.code,
  redirect_uri: code.redirectUri,
  code_verifier: VERIFIER,
  ...extra,
});

const refreshFields = (refreshToken: string, extra: Record<string, string> = {}): Record<string, string> => ({
  grant_type: 'refresh_token',
  client_id: DEMO.clientId,
  scope: SCOPE,
  refresh_token: refreshToken,
  ...extra,
});

function expectTokens(reply: Reply): any {
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.headers.get('x-grex-self-check'), null, reply.text);
  return reply.json;
}

/** B2C's OAuth error: the class, then `CODE: message`, a fresh correlation id and the mock clock's timestamp, CRLF-ended. */
function expectError(reply: Reply, error: string, code: string, message?: RegExp): void {
  assert.equal(reply.status, 400, reply.text);
  assert.equal(reply.headers.get('x-grex-self-check'), null, reply.text);
  assert.equal(reply.json?.error, error, reply.text);
  const description: string = reply.json.error_description;
  const match = /^(\w+): ([^\r\n]+)\r\nCorrelation ID: ([0-9a-f-]{36})\r\nTimestamp: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)Z\r\n$/.exec(description);
  assert.ok(match, `B2C's format: ${JSON.stringify(description)}`);
  assert.equal(match[1], code, description);
  if (message) assert.match(match[2], message);
  const stamped = Date.parse(`${match[4].replace(' ', 'T')}Z`);
  assert.ok(Math.abs(stamped - mock.app.clock.now()) < 5000, `timestamp ${match[4]} is on the mock clock`);
}

const advance = async (duration: string) => assert.equal((await mock.admin('POST', '/__admin/clock', { advance: duration })).status, 200);

function decode(segment: string): any {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
}

/** The claims of a JWT whose RS256 signature verifies with a key of the set. */
function verified(token: string, jwks: { keys: (JsonWebKey & { kid: string })[] }): any {
  const [head, body, signature] = token.split('.');
  const header = decode(head);
  assert.equal(header.alg, 'RS256');
  const jwk = jwks.keys.find((key) => key.kid === header.kid);
  assert.ok(jwk, `the key set has kid ${header.kid}`);
  const key = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
  assert.ok(verify('sha256', Buffer.from(`${head}.${body}`), key, Buffer.from(signature, 'base64url')), 'the signature verifies');
  return decode(body);
}

describe('redeeming an authorization code', () => {
  it('gives tokens that verify with the published keys and open the G-REX APIs', async () => {
    const code = signedIn();
    const reply = await post(redeemFields(code));
    const tokens = expectTokens(reply);
    assert.match(String(reply.headers.get('cache-control')), /no-store/);
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.resource, DEMO.appId);
    assert.equal(tokens.scope, SCOPE);
    assert.equal(tokens.expires_in, 3600);
    assert.equal(tokens.expires_on - tokens.not_before, 3600);
    assert.equal(tokens.id_token_expires_in, 3600);
    assert.equal(tokens.refresh_token.split('.').length, 5);
    assert.equal(tokens.refresh_token_expires_in, 14 * 86_400);
    const user = mock.app.registry.usersByName.get('eolien-trader')!;
    assert.deepEqual(decode(tokens.profile_info), { ver: '1.0', tid: DEMO.tenantId, sub: null, name: user.displayName, preferred_username: null, idp: 'LocalAccount' });

    const configuration = (await mock.request('GET', `${AUTHORITY}/v2.0/.well-known/openid-configuration`)).json;
    const jwks = expectTokens(await mock.request('GET', new URL(configuration.jwks_uri).pathname));
    const access = verified(tokens.access_token, jwks);
    assert.equal(access.iss, configuration.issuer);
    assert.equal(access.aud, DEMO.appId);
    assert.equal(access.oid, user.userId);
    assert.equal(access.sub, user.userId);
    assert.equal(access.azp, DEMO.clientId);
    assert.equal(access.scp, 'user_impersonation');
    assert.equal(access.nonce, undefined, "B2C puts the sign-in's nonce in the ID token only");
    assert.equal(access.auth_time, Math.floor(code.issuedAt / 1000), 'when the user signed in');
    assert.equal(access.nbf, tokens.not_before);
    const b2c = mock.app.contracts.contracts.find((contract) => contract.grex.api === 'b2c')!;
    assert.deepEqual(new SchemaValidator(b2c.doc).validate({ $ref: '#/components/schemas/AccessTokenClaims' }, access), [], "the contract's AccessTokenClaims");
    assert.equal(access.exp, tokens.expires_on);
    const id = verified(tokens.id_token, jwks);
    assert.equal(id.iss, configuration.issuer);
    assert.equal(id.aud, DEMO.clientId);
    assert.equal(id.sub, user.userId);
    assert.equal(id.nonce, code.nonce);
    assert.equal(id.auth_time, access.auth_time);
    const leftHalf = createHash('sha256').update(tokens.access_token).digest().subarray(0, 16).toString('base64url');
    assert.equal(id.at_hash, leftHalf, 'at_hash: the left half of the access token\'s SHA-256 (OpenID Connect, RS256)');
    assert.equal(id.name, user.displayName);
    assert.deepEqual(id.emails, [user.email]);
    assert.equal(id.tfp, 'B2C_1_SignIn');
    assert.equal(id.ver, '1.0');
    assert.ok(id.iat <= id.nbf + 1 && id.exp === id.nbf + 3600);

    const api = await mock.request('GET', '/masterdataapi/AH/masterdataapi/Technologies?$top=1&$skip=0', { token: tokens.access_token });
    assert.equal(api.status, 200, api.text);
    assert.equal(api.json.length, 1);
  });

  it('accepts the ?p= form, the client id in a Basic header with an empty secret, and PKCE plain', async () => {
    const viaQuery = signedIn();
    expectTokens(await post(redeemFields(viaQuery), { path: '/gcrfdemo.onmicrosoft.com/oauth2/v2.0/token?p=b2c_1_signin' }));

    const viaHeader = signedIn();
    const { client_id: _omitted, ...fields } = redeemFields(viaHeader);
    const basic = `Basic ${Buffer.from(`${DEMO.clientId}:`).toString('base64')}`;
    expectTokens(await post(fields, { headers: { authorization: basic } }));

    const plain = signedIn({ codeChallenge: VERIFIER, codeChallengeMethod: 'plain' });
    expectTokens(await post(redeemFields(plain)));
  });

  it('refuses each PKCE fault, and a code refused once cannot be tried again (RFC 6749 10.5: single use)', async () => {
    const faults: [Record<string, string | undefined>, string, string][] = [
      [{ code_verifier: undefined }, 'invalid_request', 'AADB2C90083'],
      [{ code_verifier: 'too-short' }, 'invalid_request', 'AADB2C90183'],
      [{ code_verifier: `${'a'.repeat(42)}!` }, 'invalid_request', 'AADB2C90183'],
      [{ code_verifier: 'b'.repeat(129) }, 'invalid_request', 'AADB2C90183'],
      [{ code_verifier: 'c'.repeat(43) }, 'invalid_grant', 'AADB2C90182'],
    ];
    for (const [change, error, b2cCode] of faults) {
      const code = signedIn();
      const fields = Object.fromEntries(Object.entries({ ...redeemFields(code), ...change }).filter((entry): entry is [string, string] => entry[1] !== undefined));
      expectError(await post(fields), error, b2cCode);
      expectError(await post(redeemFields(code)), 'invalid_grant', 'GREXMOCK', /already been redeemed/);
    }
    const plain = signedIn({ codeChallenge: VERIFIER, codeChallengeMethod: 'plain' });
    expectError(await post(redeemFields(plain, { code_verifier: S256(VERIFIER) })), 'invalid_grant', 'AADB2C90182');
    expectError(await post(redeemFields(plain)), 'invalid_grant', 'GREXMOCK', /already been redeemed/);
    expectTokens(await post(redeemFields(signedIn())));
  });

  it('refuses a second redemption, an expired code, another client, another redirect URI', async () => {
    const code = signedIn();
    expectTokens(await post(redeemFields(code)));
    expectError(await post(redeemFields(code)), 'invalid_grant', 'GREXMOCK', /already been redeemed/);

    const late = signedIn();
    await advance('PT11M');
    const issued = Math.floor(late.issuedAt / 1000);
    expectError(
      await post(redeemFields(late)),
      'invalid_grant',
      'AADB2C90080',
      new RegExp(`^The provided grant has expired\\..* Current time: \\d+, Grant issued time: ${issued}, Grant sliding window expiration time: ${issued + 600}\\.$`),
    );

    const ui = registryUiClientId(DEMO);
    const theirs = signedIn({ clientId: ui });
    expectError(await post(redeemFields(theirs, { client_id: DEMO.clientId })), 'invalid_grant', 'AADB2C90279', new RegExp(DEMO.clientId));

    expectError(await post(redeemFields(theirs)), 'invalid_grant', 'GREXMOCK', /already been redeemed/);

    const code2 = signedIn();
    expectError(await post(redeemFields(code2, { redirect_uri: '{{ReplyUrl}}' })), 'invalid_request', 'AADB2C90006', /'\{\{ReplyUrl\}\}'/);
    expectError(await post(redeemFields(code2)), 'invalid_grant', 'GREXMOCK', /already been redeemed/);
    // A request refused before it reaches the code (here: no redirect_uri at all) leaves the code as it was.
    const code3 = signedIn();
    expectError(await post(redeemFields(code3, { redirect_uri: '' })), 'invalid_request', 'AADB2C90083', /redirect_uri/);
    expectTokens(await post(redeemFields(code3)));
  });

  it('refuses malformed, unknown and foreign grants, and users who are no longer active', async () => {
    const code = signedIn();
    expectError(await post(redeemFields(code, { code: 'not-a-jwe' })), 'invalid_grant', 'AADB2C90090', /not a valid 5 segment token/);
    expectError(await post(redeemFields(code, { code: mock.app.b2c.opaqueToken() })), 'invalid_grant', 'GREXMOCK');
    const prodCode = signedIn({ tenant: 'gcrfr', clientId: PROD.clientId });
    expectError(await post(redeemFields(prodCode, { client_id: DEMO.clientId })), 'invalid_grant', 'GREXMOCK');
    mock.app.registry.users.get(code.userId)!.status = 'Inactive';
    expectError(await post(redeemFields(code)), 'invalid_grant', 'GREXMOCK', /not active/);
  });

  it('issues an access token only for the API scope, a refresh token only for offline_access', async () => {
    const idOnly = expectTokens(await post(redeemFields(signedIn(), { scope: 'openid' })));
    assert.equal(idOnly.access_token, undefined);
    assert.equal(idOnly.refresh_token, undefined);
    assert.ok(idOnly.id_token);
    const apiOnly = expectTokens(await post(redeemFields(signedIn(), { scope: API_SCOPE })));
    assert.ok(apiOnly.access_token);
    assert.equal(apiOnly.id_token, undefined);
    assert.equal(apiOnly.profile_info, undefined);
    expectError(
      await post(redeemFields(signedIn(), { scope: 'https://gcrfdemo.onmicrosoft.com/{{Appld}}/user_impersonation openid' })),
      'invalid_scope',
      'AADB2C90117',
      /\{\{Appld\}\}/,
    );
  });

  it("takes openid, profile, offline_access and the API scope in any combination, as MSAL sends them; profile is ignored", async () => {
    for (const scope of [`${API_SCOPE} openid profile offline_access`, `openid profile offline_access ${API_SCOPE}`, `profile ${API_SCOPE}`, 'openid profile']) {
      const tokens = expectTokens(await post(redeemFields(signedIn(), { scope })));
      assert.equal(tokens.scope, scope.split(' ').filter((item) => item !== 'profile').join(' '), scope);
      assert.equal(Boolean(tokens.access_token), scope.includes(API_SCOPE), scope);
      assert.equal(Boolean(tokens.id_token), scope.includes('openid'), scope);
      assert.equal(Boolean(tokens.refresh_token), scope.includes('offline_access'), scope);
    }
    const first = expectTokens(await post(redeemFields(signedIn())));
    const refreshed = expectTokens(await post(refreshFields(first.refresh_token, { scope: `${API_SCOPE} openid profile offline_access` })));
    assert.ok(refreshed.access_token && refreshed.id_token && refreshed.refresh_token);
  });

  it('answers without scope what the code was granted for (B2C marks scope "Recommended", not required)', async () => {
    const { scope: _none, ...withoutScope } = redeemFields(signedIn());
    const tokens = expectTokens(await post(withoutScope));
    assert.equal(tokens.scope, SCOPE);
    assert.ok(tokens.access_token && tokens.id_token && tokens.refresh_token);
    const { scope: _blank, ...idOnly } = redeemFields(signedIn({ scope: 'openid' }));
    const granted = expectTokens(await post({ ...idOnly, scope: ' ' }));
    assert.equal(granted.scope, 'openid');
    assert.equal(granted.access_token, undefined);
    assert.ok(granted.id_token);
  });
});

describe('the request itself', () => {
  it("refuses B2C's way: no client id, unknown client, a secret, ROPC, another grant type, no grant type", async () => {
    const code = signedIn();
    const { client_id: _omitted, ...anonymous } = redeemFields(code);
    expectError(await post(anonymous), 'invalid_request', 'AADB2C90008');
    expectError(await post(redeemFields(code, { client_id: PROD.clientId })), 'invalid_client', 'AADB2C90018', /not registered in tenant 'gcrfdemo\.onmicrosoft\.com'/);
    expectError(await post(redeemFields(code, { client_id: 'not-a-guid' })), 'invalid_client', 'AADB2C90018');
    expectError(await post(redeemFields(code, { client_secret: 's3cret' })), 'invalid_request', 'AADB2C90084');
    const withSecret = `Basic ${Buffer.from(`${DEMO.clientId}:s3cret`).toString('base64')}`;
    expectError(await post(anonymous, { headers: { authorization: withSecret } }), 'invalid_request', 'AADB2C90084');
    expectError(await post({ grant_type: 'password', client_id: DEMO.clientId, username: 'a@b.fr', password: 'x', scope: SCOPE }), 'unauthorized_client', 'AADB2C90224');
    expectError(await post(redeemFields(code, { grant_type: 'authorization_code_with_pkce' })), 'unsupported_grant_type', 'AADB2C90086', /\[authorization_code_with_pkce\]/);
    expectError(await post(redeemFields(code, { grant_type: '' })), 'invalid_request', 'AADB2C90083', /grant_type/);
    expectError(await mock.request('POST', TOKEN, { body: redeemFields(code) }), 'invalid_request', 'AADB2C90083', /grant_type/);
    expectTokens(await post(redeemFields(code)));
  });

  it('needs p on the query form, and a tenant and policy that exist', async () => {
    const code = signedIn();
    expectError(await post(redeemFields(code), { path: '/gcrfdemo.onmicrosoft.com/oauth2/v2.0/token' }), 'invalid_request', 'AADB2C90083', /parameter: p\.$/);
    expectError(await post(redeemFields(code), { path: '/gcrfdemo.onmicrosoft.com/oauth2/v2.0/token?p=B2C_1_Other' }), 'invalid_request', 'GREXMOCK');
    expectError(await post(redeemFields(code), { path: '/gcrfdemo.onmicrosoft.com/B2C_1_Other/oauth2/v2.0/token' }), 'invalid_request', 'GREXMOCK');
    expectError(await post(redeemFields(code), { path: '/contoso.onmicrosoft.com/B2C_1_SignIn/oauth2/v2.0/token' }), 'invalid_request', 'GREXMOCK');
  });
});

describe('refresh tokens', () => {
  async function firstTokens(overrides: Partial<AuthorizationCode> = {}): Promise<any> {
    const code = signedIn(overrides);
    return expectTokens(await post(redeemFields(code)));
  }

  it('rotate: a new refresh token each time, the same user, and B2C still accepts an older one', async () => {
    const first = await firstTokens();
    await advance('PT30M');
    const second = expectTokens(await post(refreshFields(first.refresh_token)));
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.notEqual(second.access_token, first.access_token);
    assert.ok(second.not_before > first.not_before);
    const [before, renewed] = [decode(first.access_token.split('.')[1]), decode(second.access_token.split('.')[1])];
    assert.equal(renewed.oid, before.oid);
    const third = expectTokens(await post(refreshFields(second.refresh_token)));
    assert.notEqual(third.refresh_token, second.refresh_token);
    expectTokens(await post(refreshFields(first.refresh_token)));
    const api = await mock.request('GET', '/masterdataapi/AH/masterdataapi/Technologies?$top=1&$skip=0', { token: third.access_token });
    assert.equal(api.status, 200, api.text);
  });

  it('refuse a superseded token in strict mode, and a revoked one always (AADB2C90129)', async () => {
    const first = await firstTokens();
    const second = expectTokens(await post(refreshFields(first.refresh_token)));
    mock.app.b2c.strictRotation = true;
    expectError(await post(refreshFields(first.refresh_token)), 'invalid_grant', 'AADB2C90129');
    const third = expectTokens(await post(refreshFields(second.refresh_token)));
    mock.app.b2c.refreshTokens.get(third.refresh_token)!.revoked = true;
    expectError(await post(refreshFields(third.refresh_token)), 'invalid_grant', 'AADB2C90129');
  });

  it('expire after 14 days for the native client', async () => {
    const first = await firstTokens();
    await advance('P13D');
    const second = expectTokens(await post(refreshFields(first.refresh_token)));
    await advance('P14DT1M');
    expectError(await post(refreshFields(second.refresh_token)), 'invalid_grant', 'AADB2C90080', /Grant issued time: \d+/);
  });

  it('expire at the end of the 90-day sliding window, however often they were renewed', async () => {
    let tokens = await firstTokens();
    for (let renewal = 1; renewal <= 6; renewal++) {
      await advance('P13D');
      tokens = expectTokens(await post(refreshFields(tokens.refresh_token)));
    }
    assert.equal(tokens.refresh_token_expires_in, 12 * 86_400, 'the window (day 90) ends before the lifetime (day 92)');
    await advance('P13D');
    const window = Math.floor((mock.app.clock.now() - 91 * DAY) / 1000) + 90 * 86_400;
    expectError(await post(refreshFields(tokens.refresh_token)), 'invalid_grant', 'AADB2C90080', new RegExp(`sliding window expiration time: (${window - 1}|${window}|${window + 1})\\.$`));
  });

  it("of the registry UI (a single-page application) last 24 hours from the sign-in, carried over by rotation", async () => {
    const ui = registryUiClientId(DEMO);
    const redirect = mock.app.b2c.client('gcrfdemo', ui)!.redirectUris[0];
    const first = await firstTokens({ clientId: ui, redirectUri: redirect });
    assert.equal(first.refresh_token_expires_in, 86_400);
    await advance('PT23H');
    const second = expectTokens(await post(refreshFields(first.refresh_token, { client_id: ui })));
    assert.ok(second.refresh_token_expires_in <= 3600);
    await advance('PT2H');
    expectError(await post(refreshFields(second.refresh_token, { client_id: ui })), 'invalid_grant', 'AADB2C90080');
  });

  it('answer without scope what the refresh token was granted for', async () => {
    const { scope: _unsent, ...redeemWithoutScope } = redeemFields(signedIn({ scope: `${API_SCOPE} offline_access` }));
    const first = expectTokens(await post(redeemWithoutScope));
    const { scope: _none, ...withoutScope } = refreshFields(first.refresh_token);
    const renewed = expectTokens(await post(withoutScope));
    assert.equal(renewed.scope, `${API_SCOPE} offline_access`);
    assert.ok(renewed.access_token && renewed.refresh_token);
    assert.equal(renewed.id_token, undefined);
    const again = expectTokens(await post({ ...withoutScope, refresh_token: renewed.refresh_token }));
    assert.equal(again.scope, `${API_SCOPE} offline_access`, 'the rotated token keeps the grant');
  });

  it('refuse another client, a malformed or unknown token, an unregistered redirect URI', async () => {
    const first = await firstTokens();
    expectError(await post(refreshFields(first.refresh_token, { client_id: registryUiClientId(DEMO) })), 'invalid_grant', 'AADB2C90279');
    expectError(await post(refreshFields('{{RefreshToken}}')), 'invalid_grant', 'AADB2C90090');
    expectError(await post(refreshFields(mock.app.b2c.opaqueToken())), 'invalid_grant', 'GREXMOCK');
    expectError(await post(refreshFields(first.refresh_token, { redirect_uri: '{{ReplyUrl}}' })), 'invalid_request', 'AADB2C90006');
    expectTokens(await post(refreshFields(first.refresh_token, { redirect_uri: DEMO.replyUrl })));
  });
});

describe('discovery and keys', () => {
  it("publish the policy's endpoints on the mock's host, its issuer and its keys", async () => {
    for (const tenant of [DEMO, PROD]) {
      const reply = await mock.request('GET', `/${tenant.name}.onmicrosoft.com/B2C_1_SignIn/v2.0/.well-known/openid-configuration`);
      const document = expectTokens(reply);
      const base = `${mock.url}/${tenant.name}.onmicrosoft.com/b2c_1_signin`;
      assert.equal(document.issuer, `https://${tenant.name}.b2clogin.com/${tenant.tenantId}/v2.0/`);
      assert.equal(document.authorization_endpoint, `${base}/oauth2/v2.0/authorize`);
      assert.equal(document.token_endpoint, `${base}/oauth2/v2.0/token`);
      assert.equal(document.end_session_endpoint, `${base}/oauth2/v2.0/logout`);
      assert.equal(document.jwks_uri, `${base}/discovery/v2.0/keys`);
      assert.deepEqual(document.id_token_signing_alg_values_supported, ['RS256']);
      const jwks = expectTokens(await mock.request('GET', new URL(document.jwks_uri).pathname));
      assert.ok(jwks.keys.length >= 1);
      for (const key of jwks.keys) assert.deepEqual([key.kty, key.use, key.e], ['RSA', 'sig', 'AQAB']);
    }
  });

  it('answer 404 for a policy or tenant that does not exist', async () => {
    for (const path of [
      '/gcrfdemo.onmicrosoft.com/B2C_1_Other/v2.0/.well-known/openid-configuration',
      '/gcrfdemo.onmicrosoft.com/B2C_1_Other/discovery/v2.0/keys',
      '/contoso.onmicrosoft.com/B2C_1_SignIn/v2.0/.well-known/openid-configuration',
      '/gcrfdemo.onmicrosoft.com/not-a-policy/discovery/v2.0/keys',
    ]) {
      const reply = await mock.request('GET', path);
      assert.equal(reply.status, 404, `${path}: ${reply.text}`);
      assert.match(String(reply.headers.get('content-type')), /^text\/html/);
      assert.match(reply.text, /404 - File or directory not found/);
    }
  });
});

describe('B2C policy settings at /__admin/b2c', () => {
  it('reads and changes the lifetimes and the strict rotation, and refuses what is not a setting', async () => {
    const before = (await mock.admin('GET', '/__admin/b2c')).json;
    assert.deepEqual(before.lifetimes, { codeSeconds: 600, refreshSeconds: 1_209_600, slidingWindowSeconds: 7_776_000, spaRefreshSeconds: 86_400, mfaSeconds: 300 });
    const changed = await mock.admin('POST', '/__admin/b2c', { strictRotation: true, lifetimes: { refreshSeconds: 3600, slidingWindowSeconds: null } });
    assert.equal(changed.status, 200);
    assert.equal(changed.json.strictRotation, true);
    assert.equal(changed.json.lifetimes.refreshSeconds, 3600);
    assert.equal(changed.json.lifetimes.slidingWindowSeconds, null);
    for (const body of [{ strictRotation: 'yes' }, { lifetimes: { refreshSeconds: -1 } }, { lifetimes: { tokenSeconds: 60 } }, { lifetimes: { codeSeconds: null } }]) {
      assert.equal((await mock.admin('POST', '/__admin/b2c', body)).status, 400, JSON.stringify(body));
    }
    await mock.admin('POST', '/__admin/b2c', before);
    assert.deepEqual((await mock.admin('GET', '/__admin/b2c')).json, before);
  });
});

describe('POST /__admin/refresh-token: a refresh token without a browser', () => {
  it('is one a native client redeems at the token endpoint, and its access token works on the APIs', async () => {
    const granted = await mock.admin('POST', '/__admin/refresh-token', { user: 'eolien-trader' });
    assert.equal(granted.status, 200, granted.text);
    assert.equal(granted.json.client_id, DEMO.clientId);
    assert.equal(granted.json.token_endpoint, TOKEN);
    const tokens = expectTokens(await post(refreshFields(granted.json.refresh_token)));
    assert.notEqual(tokens.refresh_token, granted.json.refresh_token, 'rotated');
    const accounts = await mock.request('GET', '/managementapi/AH/managementapi/Accounts?$top=1&$skip=0', { token: tokens.access_token });
    assert.equal(accounts.status, 200, accounts.text);
  });

  it('refuses an unknown user or tenant and a malformed body, plainly', async () => {
    assert.equal((await mock.admin('POST', '/__admin/refresh-token', { user: 'nobody' })).status, 404);
    assert.equal((await mock.admin('POST', '/__admin/refresh-token', { user: 'eolien-trader', tenant: 'contoso' })).status, 400);
    assert.equal((await mock.admin('POST', '/__admin/refresh-token', {})).status, 400);
    assert.equal((await mock.request('POST', '/__admin/refresh-token', { body: '{', contentType: 'application/json' })).status, 400);
  });
});
