import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { startTestMock, type TestMock } from './support/mock.js';
import { signInLikeABrowser } from './support/sign-in.js';

/**
 * A client library nobody in this project wrote (openid-client 6, on
 * oauth4webapi) against the mock's B2C: from the discovery URL alone, the
 * authorization-code flow with PKCE, a refresh with rotation, and the tokens
 * on the G-REX APIs. The sign-in pages are HTML, driven here with fetch as a
 * browser would; everything OAuth is the library's.
 */

let mock: TestMock;
before(async () => {
  mock = await startTestMock('b2c-client-library');
});
after(async () => {
  assert.equal(mock.app.selfCheckFailures, 0, 'every answer matched the contract');
  await mock.close();
});

const TENANT = 'gcrfdemo';
const POLICY = 'B2C_1_SignIn';
const CLIENT_ID = '9e818394-185c-47e7-8b93-714714bfcf8f';
const REPLY = 'https://gcrfdemo.b2clogin.com/oauth2/nativeclient';
const USER = 'eolien-trader';
const PASSWORD = 'Grex-Mock-2026!';

const scope = (): string => `https://${TENANT}.onmicrosoft.com/${mock.app.tokens.tenant(TENANT)?.appId}/user_impersonation openid offline_access`;
const discoveryUrl = (): URL => new URL(`${mock.url}/${TENANT}.onmicrosoft.com/${POLICY}/v2.0/.well-known/openid-configuration`);

/**
 * How far the mock's clock is from this machine's, in seconds. The mock runs
 * on G-REX time (the fixtures' epoch, moved by the admin API), so the `iat`,
 * `nbf` and `exp` of its tokens are on that clock: a client must share it, as
 * it would share a real B2C's through NTP.
 */
const mockClockSkew = (): number => Math.round((mock.app.clock.now() - Date.now()) / 1000);

/**
 * The library's configuration from the discovery URL only: a public client
 * (no secret: `None()`), over plain http to the in-process mock
 * (`allowInsecureRequests`, the library's documented switch for http), on the
 * mock's clock (`clockSkew`, the library's documented adjustment of its "now"),
 * and checking the ID tokens' signatures with the keys of the discovery
 * document's `jwks_uri` (`enableNonRepudiationChecks`; without it the library
 * trusts the token endpoint's TLS, as OpenID Connect allows).
 */
const discover = (): Promise<client.Configuration> =>
  client.discovery(discoveryUrl(), CLIENT_ID, { redirect_uris: [REPLY], response_types: ['code'], [client.clockSkew]: mockClockSkew() }, client.None(), {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });

/** What the user does in the browser: the sign-in page, the password, the SMS code. The reply URL B2C redirects to, not followed. */
async function signInInBrowser(authorizationUrl: URL): Promise<URL> {
  const reply = await signInLikeABrowser(authorizationUrl, {
    username: USER,
    password: PASSWORD,
    smsCode: async () => {
      const sent = await mock.admin('GET', `/__admin/mfa?user=${USER}`);
      assert.equal(sent.status, 200, sent.text);
      return String(sent.json.code);
    },
  });
  assert.ok(reply.href.startsWith(`${REPLY}?`), reply.href);
  return reply;
}

/** The authorization URL the library builds, with PKCE (S256), state and nonce. */
function authorizationRequest(config: client.Configuration, codeChallenge: string, state: string, nonce: string): URL {
  return client.buildAuthorizationUrl(config, {
    redirect_uri: REPLY,
    scope: scope(),
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });
}

async function accountsWith(accessToken: string): Promise<number> {
  const reply = await fetch(`${mock.url}/managementapi/AH/managementapi/Accounts?$top=1`, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } });
  const text = await reply.text();
  assert.equal(reply.headers.get('x-grex-self-check'), null, text);
  assert.equal(reply.status, 200, text);
  assert.ok(Array.isArray(JSON.parse(text)), text);
  return reply.status;
}

describe('openid-client 6 against the mock B2C', () => {
  it('discovers the policy from its .well-known URL, whose issuer is the b2clogin.com one', async () => {
    const config = await discover();
    const metadata = config.serverMetadata();
    const tenantId = mock.app.tokens.tenant(TENANT)?.tenantId;
    assert.ok(tenantId);
    assert.equal(metadata.issuer, `https://${TENANT}.b2clogin.com/${tenantId}/v2.0/`);
    assert.notEqual(metadata.issuer, discoveryUrl().href);
    assert.ok(metadata.authorization_endpoint?.startsWith(mock.url));
    assert.ok(metadata.token_endpoint?.startsWith(mock.url));
    assert.equal(config.clientMetadata().client_id, CLIENT_ID);
  });

  it('signs in with the authorization code and PKCE, uses the access token, then refreshes with rotation', async () => {
    const config = await discover();
    const codeVerifier = client.randomPKCECodeVerifier();
    const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
    const state = client.randomState();
    const nonce = client.randomNonce();

    const authorizationUrl = authorizationRequest(config, codeChallenge, state, nonce);
    assert.equal(authorizationUrl.origin + authorizationUrl.pathname, config.serverMetadata().authorization_endpoint);
    const callback = await signInInBrowser(authorizationUrl);
    assert.equal(callback.searchParams.get('state'), state);
    assert.ok(callback.searchParams.get('code'));

    // The library's plain call: no scope at the token endpoint, where B2C marks it "Recommended", not required.
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce });
    assert.equal(tokens.token_type, 'bearer');
    assert.ok(tokens.access_token);
    assert.ok(tokens.refresh_token);
    assert.ok(tokens.id_token);
    assert.ok((tokens.expiresIn() ?? 0) > 0);

    // The ID token, as the library validated it (issuer from the discovery document, audience, nonce, times).
    const claims = tokens.claims();
    assert.ok(claims);
    assert.equal(claims.iss, config.serverMetadata().issuer);
    assert.equal(claims.aud, CLIENT_ID);
    assert.equal(claims.nonce, nonce);
    const user = mock.app.registry.usersByName.get(USER);
    assert.ok(user);
    assert.equal(claims.sub, user.userId);
    assert.equal(claims.tfp, POLICY);
    assert.equal(tokens.scope, scope(), 'the scope the sign-in asked for');

    assert.equal(await accountsWith(tokens.access_token), 200);

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.access_token);
    assert.ok(refreshed.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotates');
    assert.equal(refreshed.claims()?.sub, user.userId);
    assert.equal(await accountsWith(refreshed.access_token), 200);
  });

  it('fails the code redemption with B2C invalid_grant AADB2C90182 when the code_verifier is not the one of the challenge', async () => {
    const config = await discover();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const callback = await signInInBrowser(authorizationRequest(config, await client.calculatePKCECodeChallenge(codeVerifier), state, nonce));

    const wrongVerifier = client.randomPKCECodeVerifier();
    assert.notEqual(wrongVerifier, codeVerifier);
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: wrongVerifier, expectedState: state, expectedNonce: nonce }),
      (error: unknown) => {
        assert.ok(error instanceof client.ResponseBodyError, String(error));
        assert.equal(error.status, 400);
        assert.equal(error.error, 'invalid_grant');
        assert.match(error.error_description ?? '', /^AADB2C90182: The supplied code_verifier does not match associated code_challenge/);
        return true;
      },
    );
  });

  it("reads the API's 401 challenge (WWW-Authenticate) with its own parser, whatever the reason says", async () => {
    const config = await discover();
    const url = new URL(`${mock.url}/managementapi/AH/managementapi/Accounts?$top=1&$skip=0`);
    const headers = new Headers({ accept: 'application/json' });
    // A token that is no JWT, and a blank one (the header reaches the API as "Bearer"): a reason with quotes in it.
    for (const [token, reason] of [
      ['x', 'the token is not three base64url segments (header.payload.signature)'],
      [' ', 'the Authorization header is not "Bearer {token}"'],
    ]) {
      await assert.rejects(client.fetchProtectedResource(config, token, url, 'GET', undefined, headers), (error: unknown) => {
        assert.ok(error instanceof client.WWWAuthenticateChallengeError, `no challenge the library could parse: ${String(error)}`);
        assert.equal(error.response.status, 401);
        assert.deepEqual(error.cause.map((challenge) => [challenge.scheme, challenge.parameters.error, challenge.parameters.error_description]), [['bearer', 'invalid_token', reason]]);
        return true;
      });
    }
  });
});
