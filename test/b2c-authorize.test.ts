import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TENANTS } from '../mock/app.js';
import { registryUiClientId } from '../mock/b2c/service.js';
import { startTestMock, type TestMock } from './support/mock.js';

let mock: TestMock;
before(async () => {
  mock = await startTestMock('b2c-authorize');
});
after(async () => {
  assert.equal(mock.app.selfCheckFailures, 0, 'every answer matched the contract');
  await mock.close();
});

const DEMO_CLIENT = '9e818394-185c-47e7-8b93-714714bfcf8f';
const PROD_CLIENT = '57652e54-8e9d-49b4-bcb8-402c95e8c020';
const REPLY = 'https://gcrfdemo.b2clogin.com/oauth2/nativeclient';
const DEMO_APP_ID = TENANTS.find((tenant) => tenant.name === 'gcrfdemo')!.appId;
const API_SCOPE = `https://gcrfdemo.onmicrosoft.com/${DEMO_APP_ID}/user_impersonation`;
const SCOPE = `${API_SCOPE} openid offline_access`;
const BASE = '/gcrfdemo.onmicrosoft.com/B2C_1_SignIn';
const PASSWORD = 'Grex-Mock-2026!';
const VERIFIER = 'Km8dxP7bn7qrWF5jlZisXQc-Cv3E0KdoElnb0j9o2l4';
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

type Params = Record<string, string | undefined>;

/** The manual's Postman request: DEMO client, nativeclient reply URL, S256. */
const postman = (overrides: Params = {}): Params => ({
  client_id: DEMO_CLIENT,
  response_type: 'code',
  redirect_uri: REPLY,
  scope: SCOPE,
  state: 'Xk7qPz3r9WmT2vLd',
  nonce: '3Yp9xK2mQ7vT',
  code_challenge: CHALLENGE,
  code_challenge_method: 'S256',
  ...overrides,
});

const query = (params: Params): string => new URLSearchParams(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined)).toString();

interface Answer {
  status: number;
  location: string | null;
  text: string;
}

/** Every answer is checked against the contract by the mock (self-check): a mismatch would be a 500. */
async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  assert.equal(response.headers.get('x-grex-self-check'), null, text);
  if (response.status !== 302) assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
  return { status: response.status, location: response.headers.get('location'), text };
}

/** No redirect following: the tests look at B2C's 302s themselves. */
const get = async (path: string): Promise<Answer> => answer(await fetch(`${mock.url}${path}`, { redirect: 'manual' }));
const post = async (form: Params, path = `${BASE}/SelfAsserted`): Promise<Answer> =>
  answer(await fetch(`${mock.url}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: query(form) }));

const authorize = (params: Params, base = BASE): Promise<Answer> => get(`${base}/oauth2/v2.0/authorize?${query(params)}`);

const txOf = (page: Answer): string => {
  const found = /name="tx" value="([^"]+)"/.exec(page.text);
  assert.ok(found, page.text);
  return found[1];
};

/** The fields B2C sent back, from the query or the fragment of a redirect. */
function returned(reply: Answer, part: 'search' | 'hash' = 'search'): URLSearchParams {
  assert.equal(reply.status, 302, reply.text);
  assert.ok(reply.location);
  return new URLSearchParams(new URL(reply.location)[part].slice(1));
}

const smsCode = async (user: string): Promise<string> => {
  const reply = await mock.admin('GET', `/__admin/mfa?user=${user}`);
  assert.equal(reply.status, 200, reply.text);
  return reply.json.code as string;
};

/** Authorize, then the password: the MFA page and its transaction. */
async function throughPassword(params: Params = postman(), user = 'eolien-trader'): Promise<{ tx: string; mfa: Answer }> {
  const signIn = await authorize(params);
  assert.equal(signIn.status, 200, signIn.text);
  const tx = txOf(signIn);
  const mfa = await post({ tx, username: user, password: PASSWORD });
  assert.equal(mfa.status, 200, mfa.text);
  assert.match(mfa.text, /id="verificationCode"/);
  return { tx, mfa };
}

/** The whole sign-in of `user`: what B2C answers to the right SMS code. */
async function signIn(params: Params = postman(), user = 'eolien-trader'): Promise<Answer> {
  const { tx } = await throughPassword(params, user);
  return post({ tx, code: await smsCode(user) });
}

/** Text as the pages show it: HTML-escaped, apostrophes included. */
const onPage = (text: string): string => text.replace(/&/g, '&amp;').replace(/'/g, '&#39;');

const assertPageCode = (page: Answer, status: number, code: string): void => {
  assert.equal(page.status, status, page.text);
  assert.equal(page.location, null);
  assert.match(page.text, new RegExp(`${code}: `));
};

/** An OAuth error at the redirect URI, as B2C writes it: `.NET` URL encoding and CRLF-separated lines. */
function assertRedirectError(fields: URLSearchParams, error: string, code: string, state = 'Xk7qPz3r9WmT2vLd'): void {
  assert.equal(fields.get('error'), error);
  assert.match(fields.get('error_description') ?? '', new RegExp(`^${code}: .+\\r\\nCorrelation ID: [0-9a-f-]{36}\\r\\nTimestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\r\\n$`));
  assert.equal(fields.get('state'), state);
}

describe('B2C sign-in: authorize, password, SMS code, authorization code', () => {
  it('signs the Postman client in and redirects to the nativeclient reply URL with state and code', async () => {
    const user = mock.app.registry.usersByName.get('eolien-trader');
    assert.ok(user?.phoneNumber);
    const signInPage = await authorize(postman());
    assert.match(signInPage.text, /action="\/gcrfdemo\.onmicrosoft\.com\/B2C_1_SignIn\/SelfAsserted"/);
    assert.match(signInPage.text, /name="username"/);
    assert.match(signInPage.text, /name="password"/);
    const tx = txOf(signInPage);
    const mfa = await post({ tx, username: 'eolien-trader', password: PASSWORD });
    assert.ok(mfa.text.includes(`XXX-XXX-XX${user.phoneNumber.slice(-2)}`), 'the number on record, masked');
    assert.ok(!mfa.text.includes(user.phoneNumber));
    const sent = await mock.admin('GET', '/__admin/mfa?user=eolien-trader');
    assert.equal(sent.json.user, 'eolien-trader');
    assert.match(sent.json.code, /^\d{6}$/);
    assert.ok(Math.abs(Date.parse(sent.json.sentAt) - mock.app.clock.now()) < 5_000, sent.json.sentAt);

    const done = await post({ tx, code: sent.json.code });
    assert.ok(done.location?.startsWith(`${REPLY}?state=Xk7qPz3r9WmT2vLd&code=`), done.location ?? '');
    const code = returned(done).get('code') ?? '';
    assert.equal(code.split('.').length, 5, 'a 5-segment compact JWE, as B2C codes are');
    const grant = mock.app.b2c.codes.get(code);
    assert.ok(grant, 'the code is waiting for the token endpoint');
    assert.deepEqual(
      { ...grant, issuedAt: typeof grant.issuedAt },
      {
        code,
        tenant: 'gcrfdemo',
        policy: 'B2C_1_SignIn',
        clientId: DEMO_CLIENT,
        redirectUri: REPLY,
        scope: SCOPE,
        userId: user.userId,
        nonce: '3Yp9xK2mQ7vT',
        codeChallenge: CHALLENGE,
        codeChallengeMethod: 'S256',
        issuedAt: 'number',
        redeemed: false,
      },
    );
    assert.ok(Math.abs(grant.issuedAt - mock.app.clock.now()) < 5_000);
    assert.equal((await mock.admin('GET', '/__admin/mfa?user=eolien-trader')).status, 404, 'an SMS code verifies one sign-in');
    assert.equal((await post({ tx, code: sent.json.code })).status, 400, 'the transaction ended with the code');
  });

  it('signs in with the e-mail address too, in PROD as well', async () => {
    const user = mock.app.registry.usersByName.get('soleil-trader');
    assert.ok(user);
    const prod = { client_id: PROD_CLIENT, redirect_uri: 'https://gcrfr.b2clogin.com/oauth2/nativeclient', scope: `https://gcrfr.onmicrosoft.com/${PROD_CLIENT}/user_impersonation openid offline_access` };
    const page = await authorize(postman(prod), '/gcrfr.onmicrosoft.com/b2c_1_signin');
    const tx = txOf(page);
    const mfa = await post({ tx, username: user.email.toUpperCase(), password: PASSWORD }, '/gcrfr.onmicrosoft.com/B2C_1_SignIn/SelfAsserted');
    assert.match(mfa.text, /id="verificationCode"/);
    const done = await post({ tx, code: await smsCode('soleil-trader') }, '/gcrfr.onmicrosoft.com/B2C_1_SignIn/SelfAsserted');
    const grant = mock.app.b2c.codes.get(returned(done).get('code') ?? '');
    assert.equal(grant?.tenant, 'gcrfr');
    assert.equal(grant?.clientId, PROD_CLIENT);
  });

  it('returns the code in the fragment with response_mode=fragment', async () => {
    const done = await signIn(postman({ response_mode: 'fragment' }));
    assert.ok(done.location?.startsWith(`${REPLY}#state=`), done.location ?? '');
    assert.ok(mock.app.b2c.codes.has(returned(done, 'hash').get('code') ?? ''));
  });

  it('posts the code to the reply URL with response_mode=form_post, escaping what it echoes', async () => {
    const state = '"><script>alert(1)</script>';
    const done = await signIn(postman({ response_mode: 'form_post', state }));
    assert.equal(done.status, 200);
    assert.match(done.text, new RegExp(`<form method="POST" name="hiddenform" action="${REPLY}">`));
    assert.ok(done.text.includes('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'), done.text);
    assert.ok(!done.text.includes('<script>alert'));
    const code = /name="code" value="([^"]+)"/.exec(done.text)?.[1] ?? '';
    assert.ok(mock.app.b2c.codes.has(code));
  });

  it('takes plain as the method when a challenge comes without one, and echoes no state when none was sent', async () => {
    const plain = await signIn(postman({ code_challenge: VERIFIER, code_challenge_method: undefined }));
    const plainGrant = mock.app.b2c.codes.get(returned(plain).get('code') ?? '');
    assert.equal(plainGrant?.codeChallengeMethod, 'plain');
    assert.equal(plainGrant?.codeChallenge, VERIFIER);
    const stateless = await signIn(postman({ state: undefined, nonce: undefined }));
    assert.ok(stateless.location?.startsWith(`${REPLY}?code=`), 'no state sent, none echoed');
    assert.equal(mock.app.b2c.codes.get(returned(stateless).get('code') ?? '')?.nonce, undefined);
  });

  it("signs the registry UI (a single-page application) in at the mock's own origin", async () => {
    const tenant = mock.app.b2c.tenant('gcrfdemo');
    assert.ok(tenant);
    const done = await signIn(postman({ client_id: registryUiClientId(tenant), redirect_uri: `${mock.url}/` }), 'soleil-root');
    assert.ok(done.location?.startsWith(`${mock.url}/?state=`), done.location ?? '');
  });

  it('takes openid, profile, offline_access and the API scope in any order, as MSAL asks, and grants them without profile', async () => {
    for (const scope of [`${API_SCOPE} openid profile offline_access`, `openid profile offline_access ${API_SCOPE}`, `profile ${API_SCOPE}`]) {
      const code = returned(await signIn(postman({ scope }))).get('code') ?? '';
      const fields = { grant_type: 'authorization_code', client_id: DEMO_CLIENT, code, redirect_uri: REPLY, code_verifier: VERIFIER };
      const tokens = await mock.request('POST', `${BASE}/oauth2/v2.0/token`, { body: query(fields), contentType: 'application/x-www-form-urlencoded' });
      assert.equal(tokens.status, 200, tokens.text);
      assert.equal(tokens.json.scope, scope.split(' ').filter((item) => item !== 'profile').join(' '), 'what the sign-in granted, without profile');
    }
  });

  it('escapes the login_hint it pre-fills', async () => {
    const page = await authorize(postman({ login_hint: '"><img src=x onerror=alert(1)>' }));
    assert.ok(page.text.includes('value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"'));
    assert.ok(!page.text.includes('<img'));
  });
});

describe('B2C authorize refusals, in B2C order', () => {
  it('404 for a policy the tenant does not have', async () => {
    const page = await authorize(postman(), '/gcrfdemo.onmicrosoft.com/B2C_1_Other');
    assert.equal(page.status, 404);
    assert.match(page.text, /404 - File or directory not found/);
  });

  it('AADB2C90018 page, no redirect, for a client of another tenant or no client_id', async () => {
    const other = await authorize(postman({ client_id: PROD_CLIENT }));
    assertPageCode(other, 400, 'AADB2C90018');
    assert.ok(other.text.includes(onPage(`The client ID '${PROD_CLIENT}' specified in the request is not registered in tenant 'gcrfdemo.onmicrosoft.com'.`)), other.text);
    assertPageCode(await authorize(postman({ client_id: undefined })), 400, 'AADB2C90018');
    assertPageCode(await authorize(postman({ client_id: 'not-a-guid', redirect_uri: undefined })), 400, 'AADB2C90018');
  });

  it("AADB2C90006 page, no redirect, for the manual's unresolved {{ReplyUrl}} or a missing redirect_uri", async () => {
    const page = await authorize(postman({ redirect_uri: '{{ReplyUrl}}' }));
    assertPageCode(page, 400, 'AADB2C90006');
    assert.ok(page.text.includes(onPage(`The redirect URI '{{ReplyUrl}}' provided in the request is not registered for the client ID '${DEMO_CLIENT}'.`)), page.text);
    assertPageCode(await authorize(postman({ redirect_uri: `${REPLY}/` })), 400, 'AADB2C90006');
    assertPageCode(await authorize(postman({ redirect_uri: undefined })), 400, 'AADB2C90006');
  });

  it('AADB2C90057 in the fragment for the implicit flow, even before a missing scope', async () => {
    for (const responseType of ['token', 'id_token', 'id_token token']) {
      const reply = await authorize(postman({ response_type: responseType, scope: undefined }));
      assert.ok(reply.location?.startsWith(`${REPLY}#error=unauthorized_client&error_description=AADB2C90057%3a+`), reply.location ?? '');
      assertRedirectError(returned(reply, 'hash'), 'unauthorized_client', 'AADB2C90057');
    }
  });

  it('AADB2C90083 at the redirect URI for a missing response_type or scope, in the response mode asked', async () => {
    const noType = returned(await authorize(postman({ response_type: undefined })));
    assertRedirectError(noType, 'invalid_request', 'AADB2C90083');
    assert.match(noType.get('error_description') ?? '', /missing required parameter: response_type\./);
    const noScope = returned(await authorize(postman({ scope: undefined, response_mode: 'fragment' })), 'hash');
    assert.match(noScope.get('error_description') ?? '', /missing required parameter: scope\./);
    const posted = await authorize(postman({ scope: undefined, response_mode: 'form_post' }));
    assert.equal(posted.status, 200);
    assert.match(posted.text, /name="error" value="invalid_request"/);
    assert.match(posted.text, /name="error_description" value="AADB2C90083: /);
  });

  it('AADB2C90117 at the redirect URI for a scope G-REX does not have, before any password is asked', async () => {
    for (const unknown of ['https://gcrfdemo.onmicrosoft.com/GCR/user_impersonation', 'https://gcrfdemo.onmicrosoft.com/{{Appld}}/user_impersonation', 'User.Read']) {
      const reply = await authorize(postman({ scope: `${unknown} openid profile offline_access` }));
      const fields = returned(reply);
      assertRedirectError(fields, 'invalid_scope', 'AADB2C90117');
      assert.ok(fields.get('error_description')?.startsWith(`AADB2C90117: The scope '${unknown}' provided in the request is not supported.`), fields.get('error_description') ?? '');
    }
  });

  it('AADB2C99059 for any client without code_challenge: B2C insists for the single-page application, G-REX for every client', async () => {
    const tenant = mock.app.b2c.tenant('gcrfdemo');
    assert.ok(tenant);
    const reply = await authorize(postman({ client_id: registryUiClientId(tenant), redirect_uri: `${mock.url}/`, code_challenge: undefined, code_challenge_method: undefined }));
    assert.ok(reply.location?.startsWith(`${mock.url}/?error=invalid_request&error_description=AADB2C99059%3a+`), reply.location ?? '');
    assertRedirectError(returned(reply), 'invalid_request', 'AADB2C99059');
    const native = returned(await authorize(postman({ code_challenge: undefined, code_challenge_method: undefined })));
    assertRedirectError(native, 'invalid_request', 'AADB2C99059');
    assert.match(native.get('error_description') ?? '', /Required by G-REX for every client/);
  });

  it('AADB2C90184 for a code_challenge_method other than plain or S256', async () => {
    assertRedirectError(returned(await authorize(postman({ code_challenge_method: 'S512' }))), 'invalid_request', 'AADB2C90184');
  });
});

describe('B2C SelfAsserted: what the sign-in and MFA pages answer', () => {
  const signInAgain = async (form: Params, message: string): Promise<void> => {
    const tx = txOf(await authorize(postman()));
    const page = await post({ tx, ...form });
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /id="localAccountForm"/);
    assert.ok(page.text.includes(onPage(message)), page.text);
    assert.equal(txOf(page), tx, 'the same transaction goes on');
  };

  it('the sign-in page again for a wrong password, an unknown or inactive user, missing credentials', async () => {
    await signInAgain({ username: 'eolien-trader', password: 'wrong' }, 'Your password is incorrect.');
    await signInAgain({ username: 'nobody', password: PASSWORD }, "We can't seem to find your account.");
    await signInAgain({ username: 'eolien-former-trader', password: PASSWORD }, 'Your account has been disabled.');
    await signInAgain({ username: 'eolien-trader' }, 'Please enter your username and your password.');
    assert.equal((await mock.admin('GET', '/__admin/mfa?user=eolien-former-trader')).status, 404, 'no SMS for an inactive user');
  });

  it('the MFA page again for a wrong code; the right one still works', async () => {
    const { tx } = await throughPassword();
    const right = await smsCode('eolien-trader');
    const wrong = await post({ tx, code: right === '000000' ? '111111' : '000000' });
    assert.equal(wrong.status, 200);
    assert.match(wrong.text, /Wrong code entered, please try again\./);
    assert.match(wrong.text, /id="verificationCode"/);
    assert.equal((await post({ tx, code: right })).status, 302);
  });

  it('the MFA page again for a code older than 5 minutes', async () => {
    try {
      const { tx } = await throughPassword();
      const code = await smsCode('eolien-trader');
      assert.equal((await mock.admin('POST', '/__admin/clock', { advance: 'PT6M' })).status, 200);
      const expired = await post({ tx, code });
      assert.equal(expired.status, 200);
      assert.match(expired.text, /That code has expired\./);
    } finally {
      await mock.admin('POST', '/__admin/reset');
    }
  });

  it('access_denied AADB2C90091 at the redirect URI after Cancel, on either page', async () => {
    const tx = txOf(await authorize(postman()));
    const cancelled = await post({ tx, cancel: 'true' });
    assert.ok(cancelled.location?.startsWith(`${REPLY}?error=access_denied&error_description=AADB2C90091%3a+The+user+has+cancelled+entering+self-asserted+information.%0d%0aCorrelation+ID%3a+`), cancelled.location ?? '');
    assertRedirectError(returned(cancelled), 'access_denied', 'AADB2C90091');
    assert.equal((await post({ tx, username: 'eolien-trader', password: PASSWORD })).status, 400, 'a cancelled sign-in is over');
    const atMfa = await throughPassword(postman({ response_mode: 'fragment' }));
    assertRedirectError(returned(await post({ tx: atMfa.tx, cancel: 'true' }), 'hash'), 'access_denied', 'AADB2C90091');
  });

  it('an error page for an unknown transaction, or one of another tenant', async () => {
    const unknown = await post({ tx: 'StateProperties=nothing', username: 'eolien-trader', password: PASSWORD });
    assertPageCode(unknown, 400, 'GREXMOCK');
    const tx = txOf(await authorize(postman()));
    assertPageCode(await post({ tx, username: 'eolien-trader', password: PASSWORD }, '/gcrfr.onmicrosoft.com/B2C_1_SignIn/SelfAsserted'), 400, 'GREXMOCK');
    assert.equal((await post({ tx }, '/gcrfdemo.onmicrosoft.com/B2C_1_Other/SelfAsserted')).status, 404);
  });
});

describe('B2C logout', () => {
  const logout = (params: Params, base = BASE): Promise<Answer> => get(`${base}/oauth2/v2.0/logout?${query(params)}`);

  it('redirects to post_logout_redirect_uri with state', async () => {
    const reply = await logout({ post_logout_redirect_uri: REPLY, state: 'Xk7qPz3r9WmT2vLd' });
    assert.equal(reply.location, `${REPLY}?state=Xk7qPz3r9WmT2vLd`);
    assert.match(reply.text, /Object moved/);
    assert.equal((await logout({ post_logout_redirect_uri: `${mock.url}/` })).location, `${mock.url}/`);
  });

  it('shows the signed-out page without post_logout_redirect_uri', async () => {
    const page = await logout({});
    assert.equal(page.status, 200);
    assert.match(page.text, /You have signed out\./);
  });

  it('answers the AADB2C90067 page for an address that is not an absolute http(s) URL', async () => {
    const page = await logout({ post_logout_redirect_uri: 'nativeclient' });
    assertPageCode(page, 400, 'AADB2C90067');
    assert.ok(page.text.includes('trouble signing you out'));
    assertPageCode(await logout({ post_logout_redirect_uri: 'javascript:alert(1)' }), 400, 'AADB2C90067');
    assert.equal((await logout({}, '/gcrfdemo.onmicrosoft.com/B2C_1_Other')).status, 404);
  });
});

describe('GET /__admin/mfa', () => {
  it('400 without a user, 404 for an unknown user or one without a pending code', async () => {
    assert.equal((await mock.admin('GET', '/__admin/mfa')).status, 400);
    assert.equal((await mock.admin('GET', '/__admin/mfa?user=nobody')).status, 404);
    assert.equal((await mock.admin('GET', '/__admin/mfa?user=ib-root')).status, 404);
  });

  it('shows the last code sent, case-insensitively by username', async () => {
    await throughPassword(postman(), 'hydro-root');
    await throughPassword(postman(), 'hydro-root');
    const reply = await mock.admin('GET', '/__admin/mfa?user=HYDRO-ROOT');
    assert.equal(reply.json.user, 'hydro-root');
    assert.equal(reply.json.code, mock.app.b2c.mfaCodes.get(mock.app.registry.usersByName.get('hydro-root')?.userId ?? '')?.code);
  });
});

describe('requests the contract refuses before the flow starts answer as B2C pages, not JSON', () => {
  it('an unknown tenant: the 404 page; a response_mode B2C does not know: the error page', async () => {
    const unknown = await get(`/contoso.onmicrosoft.com/B2C_1_SignIn/oauth2/v2.0/authorize?${query(postman())}`);
    assert.equal(unknown.status, 404, 'answer() has checked it is an HTML page');
    assert.match(unknown.text, /404 - File or directory not found/);
    const mode = await authorize(postman({ response_mode: 'carrier_pigeon' }));
    assert.equal(mode.status, 400);
    assert.match(mode.text, /AADB2C90083: The request has an invalid value for: response_mode/);
  });
});
