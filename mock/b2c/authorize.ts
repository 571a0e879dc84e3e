import { randomBytes, randomUUID } from 'node:crypto';
import { escapeHtml } from '../html.js';
import type { Clock } from '../clock.js';
import type { User } from '../domain/model.js';
import type { Registry } from '../domain/registry.js';
import type { Tenant } from '../identity.js';
import type { AuthorizationCode, B2CService, Client } from './service.js';
import { isTokenRefusal, parseScopes } from './token.js';

/**
 * The interactive leg of B2C: `authorize` (checks, then the sign-in page),
 * `SelfAsserted` (password, then the SMS code, then the code to the
 * redirect URI) and `logout`. Every answer is an HTML page, with a
 * `Location` when it is a redirect; the handlers turn it into HTTP.
 */

/** What B2C's front end answers: a page, or (302) a redirect whose body is ASP.NET's "Object moved" page. */
export interface Page {
  status: number;
  html: string;
  location?: string;
}

/** What the flow reads from the mock: its B2C state, the users and the clock. */
export interface B2CEnv {
  b2c: B2CService;
  registry: Registry;
  clock: Clock;
}

export type ResponseMode = 'query' | 'fragment' | 'form_post';

/** Where and how an answer goes back to the application. */
interface Target {
  redirectUri: string;
  mode: ResponseMode;
  state?: string;
}

/** A sign-in in progress, from the sign-in page to the code. */
interface Pending {
  tenant: Tenant;
  client: Client;
  target: Target;
  scope: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'plain' | 'S256';
  startedAt: number;
  /** Set once the password is right: the transaction waits for the SMS code. */
  userId?: string;
}

/** Long enough to type a password and an SMS code; B2C does not publish its own limit (the harness's choice). */
const TRANSACTION_MS = 15 * 60_000;

/** Per mock (several run in one test process), so a mock's sign-ins never leak into another's. */
const pendingByService = new WeakMap<B2CService, Map<string, Pending>>();

function pendingOf(b2c: B2CService): Map<string, Pending> {
  let pending = pendingByService.get(b2c);
  if (!pending) pendingByService.set(b2c, (pending = new Map()));
  return pending;
}

/** Alive on the mock's clock; a clock set back (admin reset) also ends it, as the sign-in has not started yet at that time. */
const alive = (pending: Pending, now: number): boolean => pending.startedAt <= now && now < pending.startedAt + TRANSACTION_MS;

// ---------------------------------------------------------------- encoding



/** .NET's `HttpUtility.UrlEncode`, as B2C writes its redirects: `+` for spaces, lower-case hex, `'` and `~` escaped. */
export function urlEncode(text: string): string {
  return encodeURIComponent(text)
    .replace(/%20/g, '+')
    .replace(/'/g, '%27')
    .replace(/~/g, '%7e')
    .replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
}

const encodeFields = (fields: [string, string][]): string => fields.map(([name, value]) => `${name}=${urlEncode(value)}`).join('&');

/** B2C's timestamp: `2025-09-15 09:13:42Z`. */
const timestamp = (now: number): string => `${new Date(now).toISOString().slice(0, 19).replace('T', ' ')}Z`;

/** `AADB2C9xxxx: message`, the correlation id and the timestamp, each line ended by CRLF. */
export const errorDescription = (code: string, message: string, now: number): string =>
  `${code}: ${message}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${timestamp(now)}\r\n`;

// ---------------------------------------------------------------- pages

const htmlDocument = (title: string, body: string): string =>
  `<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head>\n<body>\n${body}\n</body>\n</html>\n`;

/** B2C's error page, shown instead of a redirect when the redirect URI or the client cannot be trusted. */
export function errorPage(status: number, code: string, message: string, now: number, action = 'signing you in'): Page {
  const html = htmlDocument(
    'Error',
    `<div id="api" data-name="GlobalException"><div class="error-page-content">
<h2>Sorry, but we're having trouble ${action}.</h2>
<p>We track these errors automatically, but if the problem persists feel free to contact us. In the meantime, please try again.</p>
<div class="error-page-help"><p>Correlation ID: ${randomUUID()}</p><p>Timestamp: ${timestamp(now)}</p><p>${escapeHtml(`${code}: ${message}`)}</p></div>
</div></div>`,
  );
  return { status, html };
}

/** What B2C answers for a tenant or policy it does not have: IIS's plain 404 page. */
export const POLICY_NOT_FOUND_PAGE = `<!DOCTYPE html>\n<html><head><title>404 - File or directory not found.</title></head>\n<body><h2>404 - File or directory not found.</h2>\n<h3>The resource you are looking for might have been removed, had its name changed, or is temporarily unavailable.</h3></body>\n</html>\n`;

const policyNotFound = (): Page => ({ status: 404, html: POLICY_NOT_FOUND_PAGE });

const redirect = (location: string): Page => ({
  status: 302,
  location,
  html: `<html><head><title>Object moved</title></head><body>\n<h2>Object moved to <a href="${escapeHtml(location)}">here</a>.</h2>\n</body></html>\n`,
});

/** `response_mode=form_post`: a page whose script posts the fields to the redirect URI. */
function formPost(action: string, fields: [string, string][]): Page {
  const inputs = fields.map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}" />`).join('');
  const html = `<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="${escapeHtml(action)}">${inputs}<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit" /></noscript></form><script language="javascript">window.setTimeout(function(){document.forms[0].submit();}, 0);</script></body></html>\n`;
  return { status: 200, html };
}

/** The result (code or error) back to the application, in the query, the fragment or a form post; `state` as B2C orders it. */
function deliver(target: Target, fields: [string, string][]): Page {
  if (target.mode === 'form_post') return formPost(target.redirectUri, fields);
  const separator = target.mode === 'fragment' ? '#' : target.redirectUri.includes('?') ? '&' : '?';
  return redirect(`${target.redirectUri}${separator}${encodeFields(fields)}`);
}

const withState = (fields: [string, string][], state: string | undefined): [string, string][] => (state === undefined ? fields : [...fields, ['state', state]]);

/** An OAuth error sent to a redirect URI B2C trusts. */
function refuse(target: Target, error: string, code: string, message: string, now: number): Page {
  return deliver(target, withState([['error', error], ['error_description', errorDescription(code, message, now)]], target.state));
}

const selfAssertedPath = (tenant: Tenant): string => `/${tenant.name}.onmicrosoft.com/${tenant.policy}/SelfAsserted`;

const cancelButton = '<button id="cancel" type="submit" name="cancel" value="true" formnovalidate>Cancel</button>';

const alert = (error: string | undefined): string => (error ? `<div class="error pageLevel" role="alert"><p>${escapeHtml(error)}</p></div>\n` : '');

/** Username (or e-mail address) and password; the hidden `tx` names the transaction. */
function signInPage(tenant: Tenant, tx: string, username: string, error?: string): Page {
  const html = htmlDocument(
    'Sign in',
    `<div id="api" data-name="Unified">
<form id="localAccountForm" method="post" action="${escapeHtml(selfAssertedPath(tenant))}" aria-label="Sign in with your username">
<div class="intro"><h2>Sign in with your G-REX username</h2></div>
${alert(error)}<input type="hidden" name="tx" value="${escapeHtml(tx)}">
<label for="signInName">Username or email address</label>
<input type="text" id="signInName" name="username" value="${escapeHtml(username)}" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="buttons"><button id="next" type="submit">Sign in</button> ${cancelButton}</div>
</form>
</div>`,
  );
  return { status: 200, html };
}

/** The number on record, as B2C shows it: only the last two digits. */
const maskPhone = (phone: string | undefined): string => `XXX-XXX-XX${(phone ?? '').replace(/\D/g, '').slice(-2)}`;

/** The SMS code step. No SMS leaves the mock: the page says where the code is instead (the harness's own line, not B2C's). */
function mfaPage(tenant: Tenant, tx: string, user: User | undefined, error?: string): Page {
  const phone = user?.phoneNumber;
  const where = `/__admin/mfa?user=${encodeURIComponent(user?.username ?? '')}`;
  const html = htmlDocument(
    'Multi-factor authentication',
    `<div id="api" data-name="Phonefactor">
<form id="verificationForm" method="post" action="${escapeHtml(selfAssertedPath(tenant))}">
<div class="intro"><p>We have sent a verification code by SMS to <span class="phoneNumber">${escapeHtml(maskPhone(phone))}</span>. Enter it below.</p></div>
<p class="grex-harness-hint">grex-harness mock: no SMS is sent; the code is at <a href="${escapeHtml(where)}"><code>GET ${escapeHtml(where)}</code></a>.</p>
${alert(error)}<input type="hidden" name="tx" value="${escapeHtml(tx)}">
<label for="verificationCode">Verification code</label>
<input type="text" id="verificationCode" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus>
<div class="buttons"><button id="verifyCode" type="submit">Verify code</button> ${cancelButton}</div>
</form>
</div>`,
  );
  return { status: 200, html };
}

// ---------------------------------------------------------------- authorize

/** The authorize query, as the contract lets it through (every value a string). */
export type AuthorizeQuery = Partial<Record<
  'client_id' | 'response_type' | 'redirect_uri' | 'scope' | 'response_mode' | 'state' | 'nonce' | 'login_hint' | 'code_challenge' | 'code_challenge_method',
  string
>>;

/** The tenant, if the path names one of the mock's tenants and its policy (B2C policy ids ignore case). */
function tenantOf(b2c: B2CService, tenantName: string, policy: string): Tenant | undefined {
  const tenant = b2c.tenant(tenantName);
  return tenant && tenant.policy.toLowerCase() === policy.toLowerCase() ? tenant : undefined;
}

/** Implicit-flow response types ask for a token straight from `authorize`: anything with `token`, or `id_token` without `code`. */
const isImplicit = (responseType: string): boolean => {
  const parts = responseType.split(' ');
  return parts.includes('token') || !parts.includes('code');
};

/** Required parameters B2C answers at the redirect URI; `client_id` and `redirect_uri` are checked before, by error pages. */
const REQUIRED = ['response_type', 'scope'] as const;

/**
 * GET authorize, in B2C's order: the policy; the client and its redirect
 * URI (an error page: B2C sends nothing to an address it cannot trust);
 * then refusals sent to the redirect URI; then the sign-in page.
 */
export function authorize(env: B2CEnv, tenantName: string, policy: string, query: AuthorizeQuery): Page {
  const now = env.clock.now();
  const tenant = tenantOf(env.b2c, tenantName, policy);
  if (!tenant) return policyNotFound();
  const client = query.client_id ? env.b2c.client(tenant.name, query.client_id) : undefined;
  if (!client) {
    return errorPage(400, 'AADB2C90018', `The client ID '${query.client_id ?? ''}' specified in the request is not registered in tenant '${tenant.name}.onmicrosoft.com'.`, now);
  }
  const redirectUri = query.redirect_uri ?? '';
  if (!env.b2c.registered(client, redirectUri)) {
    return errorPage(400, 'AADB2C90006', `The redirect URI '${redirectUri}' provided in the request is not registered for the client ID '${query.client_id}'.`, now);
  }

  const target: Target = { redirectUri, mode: (query.response_mode as ResponseMode | undefined) ?? 'query', state: query.state };
  // Implicit-flow refusals always come back in the fragment, where an implicit client looks for its answer.
  if (query.response_type && isImplicit(query.response_type)) {
    return refuse({ ...target, mode: target.mode === 'form_post' ? 'form_post' : 'fragment' }, 'unauthorized_client', 'AADB2C90057', "The provided application is not configured to allow the 'OAuth' Implicit flow.", now);
  }
  const missing = REQUIRED.find((name) => !query[name]);
  if (missing) return refuse(target, 'invalid_request', 'AADB2C90083', `The request is missing required parameter: ${missing}.`, now);
  // An unknown scope is refused before the user types a password, not after the MFA step at the token endpoint.
  const scopes = parseScopes(query.scope as string, tenant);
  if (isTokenRefusal(scopes)) return refuse(target, scopes.error, scopes.code, scopes.message, now);
  // B2C insists for single-page apps only; G-REX's clients are all public and the manual (chapter 6) prescribes PKCE, so the mock insists for every client.
  if (!query.code_challenge) {
    const why = client.kind === 'spa' ? 'Required for single-page apps using the authorization code flow.' : 'Required by G-REX for every client (PKCE, manual chapter 6) [grex-harness].';
    return refuse(target, 'invalid_request', 'AADB2C99059', `The supplied request must present a code_challenge. ${why}`, now);
  }
  const method = query.code_challenge_method ?? 'plain';
  if (method !== 'plain' && method !== 'S256') {
    return refuse(target, 'invalid_request', 'AADB2C90184', 'The supplied code_challenge_method is not supported. Supported values are plain or S256', now);
  }

  const tx = `StateProperties=${randomBytes(24).toString('base64url')}`;
  const transactions = pendingOf(env.b2c);
  for (const [key, pending] of transactions) if (!alive(pending, now)) transactions.delete(key);
  transactions.set(tx, {
    tenant,
    client,
    target,
    scope: scopes.text,
    nonce: query.nonce,
    codeChallenge: query.code_challenge,
    codeChallengeMethod: query.code_challenge ? method : undefined,
    startedAt: now,
  });
  return signInPage(tenant, tx, query.login_hint ?? '');
}

// ---------------------------------------------------------------- SelfAsserted

export type SelfAssertedForm = Partial<Record<'tx' | 'username' | 'password' | 'code' | 'cancel', string>>;

/** B2C's default texts for the sign-in and verification pages (messages of the user flow's page layout). */
const MESSAGES = {
  noAccount: "We can't seem to find your account.",
  wrongPassword: 'Your password is incorrect.',
  disabled: 'Your account has been disabled. Contact your support person to re-enable it, then try again.',
  missingCredentials: 'Please enter your username and your password.',
  wrongCode: 'Wrong code entered, please try again.',
  expiredCode: 'That code has expired. Please start again to receive a new code.',
} as const;

/** A user by username, or by e-mail address as B2C's local accounts sign in. */
function findUser(registry: Registry, name: string): User | undefined {
  const lower = name.trim().toLowerCase();
  const byName = registry.usersByName.get(lower);
  if (byName) return byName;
  for (const user of registry.users.values()) if (user.email.toLowerCase() === lower) return user;
  return undefined;
}

/** The password step: the MFA page with a fresh SMS code, or the sign-in page again with B2C's message. */
function passwordStep(env: B2CEnv, pending: Pending, tx: string, form: SelfAssertedForm): Page {
  const username = form.username ?? '';
  if (!username || !form.password) return signInPage(pending.tenant, tx, username, MESSAGES.missingCredentials);
  const user = findUser(env.registry, username);
  if (!user) return signInPage(pending.tenant, tx, username, MESSAGES.noAccount);
  if (env.registry.secrets.get(user.userId)?.password !== form.password) return signInPage(pending.tenant, tx, username, MESSAGES.wrongPassword);
  if (user.status !== 'Active') return signInPage(pending.tenant, tx, username, MESSAGES.disabled);
  pending.userId = user.userId;
  env.b2c.sendMfaCode(user.userId);
  return mfaPage(pending.tenant, tx, user);
}

/** The SMS code step: the authorization code to the application, or the MFA page again. */
function codeStep(env: B2CEnv, pending: Pending, userId: string, tx: string, form: SelfAssertedForm): Page {
  const now = env.clock.now();
  const user = env.registry.users.get(userId);
  const sent = env.b2c.mfaCodes.get(userId);
  if (!sent || now >= sent.issuedAt + env.b2c.lifetimes.mfaSeconds * 1000) return mfaPage(pending.tenant, tx, user, MESSAGES.expiredCode);
  if (form.code?.trim() !== sent.code) return mfaPage(pending.tenant, tx, user, MESSAGES.wrongCode);
  // A code verifies one sign-in only.
  env.b2c.useMfaCode(userId);
  pendingOf(env.b2c).delete(tx);
  const code: AuthorizationCode = {
    code: env.b2c.opaqueToken(),
    tenant: pending.tenant.name,
    policy: pending.tenant.policy,
    clientId: pending.client.clientId,
    redirectUri: pending.target.redirectUri,
    scope: pending.scope,
    userId,
    nonce: pending.nonce,
    codeChallenge: pending.codeChallenge,
    codeChallengeMethod: pending.codeChallengeMethod,
    issuedAt: now,
    redeemed: false,
  };
  env.b2c.codes.set(code.code, code);
  env.b2c.touch('authorizationCodes', code);
  // B2C puts `state` before `code` in its redirects.
  return deliver(pending.target, [...withState([], pending.target.state), ['code', code.code]]);
}

/**
 * POST SelfAsserted: the form of the sign-in page or of the MFA page, or
 * their cancel button. The transaction (`tx`) says which step is due.
 */
export function selfAsserted(env: B2CEnv, tenantName: string, policy: string, form: SelfAssertedForm): Page {
  const now = env.clock.now();
  const tenant = tenantOf(env.b2c, tenantName, policy);
  if (!tenant) return policyNotFound();
  const tx = form.tx ?? '';
  const pending = pendingOf(env.b2c).get(tx);
  if (!pending || pending.tenant !== tenant || !alive(pending, now)) {
    return errorPage(400, 'GREXMOCK', 'The sign-in transaction is unknown or has expired. Start the sign-in again from the application.', now);
  }
  if (form.cancel) {
    pendingOf(env.b2c).delete(tx);
    return refuse(pending.target, 'access_denied', 'AADB2C90091', 'The user has cancelled entering self-asserted information.', now);
  }
  return pending.userId ? codeStep(env, pending, pending.userId, tx, form) : passwordStep(env, pending, tx, form);
}

// ---------------------------------------------------------------- logout

export type LogoutQuery = Partial<Record<'post_logout_redirect_uri' | 'state', string>>;

/** The post-logout address as a URL (normalised, so no stray control character reaches the Location header), if it is an absolute http(s) one. */
function httpUrl(text: string): string | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

const SIGNED_OUT: Page = {
  status: 200,
  html: htmlDocument('Signed out', '<div id="api" data-name="SignOut">\n<h2>You have signed out.</h2>\n<p>You can close this window.</p>\n</div>'),
};

/**
 * GET logout. The mock keeps no single sign-on session (every `authorize`
 * asks for the password and the SMS code), so there is nothing to end: only
 * the redirect is answered.
 */
export function logout(env: B2CEnv, tenantName: string, policy: string, query: LogoutQuery): Page {
  const now = env.clock.now();
  if (!tenantOf(env.b2c, tenantName, policy)) return policyNotFound();
  if (query.post_logout_redirect_uri === undefined) return SIGNED_OUT;
  const uri = httpUrl(query.post_logout_redirect_uri);
  if (!uri) {
    return errorPage(
      400,
      'AADB2C90067',
      `The post logout redirect URI '${query.post_logout_redirect_uri}' has an invalid format. Specify an https based URL such as 'https://example.com/return' or for native clients use the IETF native client URI 'urn:ietf:wg:oauth:2.0:oob'.`,
      now,
      'signing you out',
    );
  }
  return redirect(query.state === undefined ? uri : `${uri}${uri.includes('?') ? '&' : '?'}${encodeFields([['state', query.state]])}`);
}
