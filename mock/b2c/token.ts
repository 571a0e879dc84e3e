import { createHash, randomUUID } from 'node:crypto';
import type { User } from '../domain/model.js';
import type { TokenAuthority, Tenant } from '../identity.js';
import { authorityPath, type AuthorizationCode, type B2CService, type Client, type RefreshGrant } from './service.js';

/**
 * B2C's token endpoint and metadata: redeeming authorization codes and
 * refresh tokens (with rotation), and the OpenID configuration of a policy.
 * Checks are small functions that answer a refusal or nothing; a refresh
 * token rotates only once every check has passed, and a code is spent by the
 * first request that names it (checkCode).
 */

export type OAuthErrorClass = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope';

/** A refusal as B2C words it: `code` is the AADB2C code, or GREXMOCK for the harness's own answers to undocumented cases. */
export interface TokenRefusal {
  refused: true;
  error: OAuthErrorClass;
  code: string;
  message: string;
}

export interface OAuthErrorBody {
  error: OAuthErrorClass;
  error_description: string;
}

/** The contract's TokenResponse. */
export interface TokenResponse {
  access_token?: string;
  id_token?: string;
  token_type: 'Bearer';
  not_before: number;
  expires_in?: number;
  expires_on?: number;
  resource?: string;
  id_token_expires_in?: number;
  profile_info?: string;
  scope: string;
  refresh_token?: string;
  refresh_token_expires_in?: number;
  client_info?: string;
}

export interface TokenRequest {
  tenant: string;
  policy: string;
  /** The parsed form body. */
  form: Record<string, string>;
  authorization: string | undefined;
}

const refuse = (error: OAuthErrorClass, code: string, message: string): TokenRefusal => ({ refused: true, error, code, message });

export const isTokenRefusal = (value: unknown): value is TokenRefusal => typeof value === 'object' && value !== null && (value as TokenRefusal).refused === true;

/** B2C's messages (Microsoft's error-code reference, or the contract's GREXMOCK examples). */
export const refusals = {
  unknownPolicy: () => refuse('invalid_request', 'GREXMOCK', 'The tenant or the policy of the request does not exist; G-REX uses B2C_1_SignIn in gcrfr and gcrfdemo.'),
  missing: (name: string) => refuse('invalid_request', 'AADB2C90083', `The request is missing required parameter: ${name}.`),
  noClientId: () => refuse('invalid_request', 'AADB2C90008', 'The request does not contain a client ID parameter.'),
  unknownClient: (clientId: string, tenant: string) =>
    refuse('invalid_client', 'AADB2C90018', `The client ID '${clientId}' specified in the request is not registered in tenant '${tenant}.onmicrosoft.com'.`),
  secret: () => refuse('invalid_request', 'AADB2C90084', 'Public clients should not send a client_secret when redeeming a publicly acquired grant.'),
  ropc: () => refuse('unauthorized_client', 'AADB2C90224', 'Resource owner flow has not been enabled for the application.'),
  unsupportedGrant: (grantType: string) => refuse('unsupported_grant_type', 'AADB2C90086', `The supplied grant_type [${grantType}] is not supported.`),
  scope: (scope: string) => refuse('invalid_scope', 'AADB2C90117', `The scope '${scope}' provided in the request is not supported.`),
  malformed: () => refuse('invalid_grant', 'AADB2C90090', 'The provided JWE is not a valid 5 segment token.'),
  unknownGrant: () => refuse('invalid_grant', 'GREXMOCK', 'The provided grant was not issued by this tenant, or the mock was reset since. Start a new sign-in.'),
  expired: (now: number, issuedAt: number, windowEnd: number) =>
    refuse(
      'invalid_grant',
      'AADB2C90080',
      `The provided grant has expired. Please re-authenticate and try again. Current time: ${seconds(now)}, Grant issued time: ${seconds(issuedAt)}, Grant sliding window expiration time: ${seconds(windowEnd)}.`,
    ),
  revoked: () => refuse('invalid_grant', 'AADB2C90129', 'The provided grant has been revoked. Please reauthenticate and try again.'),
  reusedCode: () => refuse('invalid_grant', 'GREXMOCK', 'The provided authorization code has already been redeemed. Start a new sign-in.'),
  otherClient: (clientId: string) => refuse('invalid_grant', 'AADB2C90279', `The provided client ID '${clientId}' does not match the client ID that issued the grant.`),
  redirectUri: (uri: string, clientId: string) =>
    refuse('invalid_request', 'AADB2C90006', `The redirect URI '${uri}' provided in the request is not registered for the client ID '${clientId}'.`),
  verifierMismatch: () => refuse('invalid_grant', 'AADB2C90182', 'The supplied code_verifier does not match associated code_challenge'),
  verifierInvalid: () => refuse('invalid_request', 'AADB2C90183', 'The supplied code_verifier is invalid'),
  inactiveUser: () => refuse('invalid_grant', 'GREXMOCK', 'The user of the provided grant does not exist or is not active. Start a new sign-in.'),
};

const seconds = (ms: number): number => Math.floor(ms / 1000);

/** `yyyy-mm-dd hh:mm:ssZ`, B2C's timestamp. */
export const b2cTimestamp = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;

/** The OAuth error body: code and message, a fresh correlation id and the timestamp, each line ended by CRLF. */
export function oauthError(refusal: TokenRefusal, now: number): OAuthErrorBody {
  // Request values (a redirect URI, a scope) are quoted in messages: a line break in them must not split the description's lines.
  const message = refusal.message.replace(/[\r\n]+/g, ' ');
  return { error: refusal.error, error_description: `${refusal.code}: ${message}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${b2cTimestamp(now)}\r\n` };
}

/** The client id and secret, from the form or from a Basic header (Postman's `client_authentication: header` sends `base64("{id}:")`). */
export function clientCredentials(form: Record<string, string>, authorization: string | undefined): { clientId?: string; secret?: string } {
  const basic = /^basic\s+(\S+)$/i.exec(authorization ?? '');
  let headerId: string | undefined;
  let headerSecret: string | undefined;
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    // RFC 6749 2.3.1: both parts are form-urlencoded before base64.
    const part = (text: string): string => decodeURIComponent(text.replace(/\+/g, ' '));
    try {
      headerId = part(colon < 0 ? decoded : decoded.slice(0, colon)) || undefined;
      headerSecret = colon < 0 ? undefined : part(decoded.slice(colon + 1)) || undefined;
    } catch {
      headerId = undefined;
    }
  }
  return { clientId: form.client_id || headerId, secret: form.client_secret || headerSecret };
}

export interface Scopes {
  api: boolean;
  openid: boolean;
  offline: boolean;
  /** As requested, space-separated, without the ignored `profile`: what the answer's `scope` says. */
  text: string;
}

/** The G-REX API scope of a tenant: `https://{tenant}.onmicrosoft.com/{AppId}/user_impersonation`. */
export const apiScope = (tenant: Tenant): string => `https://${tenant.name}.onmicrosoft.com/${tenant.appId}/user_impersonation`;

/**
 * The scopes of a request, in any combination: the API scope, `openid`,
 * `offline_access`, and `profile`, which every MSAL adds and B2C ignores.
 * Anything else is refused (AADB2C90117).
 */
export function parseScopes(text: string, tenant: Tenant): Scopes | TokenRefusal {
  const items = text.split(/\s+/).filter(Boolean);
  const api = apiScope(tenant).toLowerCase();
  const unknown = items.find((item) => !['openid', 'offline_access', 'profile', api].includes(item.toLowerCase()));
  if (unknown) return refusals.scope(unknown);
  const has = (name: string): boolean => items.some((item) => item.toLowerCase() === name);
  return { api: has(api), openid: has('openid'), offline: has('offline_access'), text: items.filter((item) => item.toLowerCase() !== 'profile').join(' ') };
}

const FIVE_SEGMENTS = /^[^.]*(\.[^.]*){4}$/;
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** PKCE (RFC 7636): a code with a challenge needs its verifier. */
export function checkVerifier(code: AuthorizationCode, verifier: string | undefined): TokenRefusal | null {
  if (!code.codeChallenge) return null;
  if (!verifier) return refusals.missing('code_verifier');
  if (!VERIFIER.test(verifier)) return refusals.verifierInvalid();
  const expected = code.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  return expected === code.codeChallenge ? null : refusals.verifierMismatch();
}

const samePolicy = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * An authorization code that passes every check. A code is single-use (RFC
 * 6749 10.5): the first request that names it to its tenant's token endpoint
 * spends it, whether that request is answered with tokens or refused (a
 * wrong verifier, client or redirect URI), so a refused code cannot be
 * tried again.
 */
export function checkCode(b2c: B2CService, client: Client, policy: string, form: Record<string, string>): AuthorizationCode | TokenRefusal {
  if (!form.code) return refusals.missing('code');
  if (!form.redirect_uri) return refusals.missing('redirect_uri');
  if (!FIVE_SEGMENTS.test(form.code)) return refusals.malformed();
  const code = b2c.codes.get(form.code);
  // A grant of another tenant or policy cannot be decrypted there: to that tenant it is unknown.
  if (!code || code.tenant !== client.tenant || !samePolicy(code.policy, policy)) return refusals.unknownGrant();
  const now = b2c.clock.now();
  const expiresAt = code.issuedAt + b2c.lifetimes.codeSeconds * 1000;
  if (now > expiresAt) return refusals.expired(now, code.issuedAt, expiresAt);
  if (code.redeemed) return refusals.reusedCode();
  code.redeemed = true;
  b2c.touch('authorizationCodes', code);
  if (code.clientId.toLowerCase() !== client.clientId.toLowerCase()) return refusals.otherClient(client.clientId);
  if (form.redirect_uri !== code.redirectUri) return refusals.redirectUri(form.redirect_uri, client.clientId);
  return checkVerifier(code, form.code_verifier) ?? code;
}

/**
 * When a refresh token stops working, and the sliding-window time B2C quotes.
 * Native clients: the policy's lifetime from its issue, within the sliding
 * window from the sign-in. Single-page applications: 24 hours from the
 * sign-in, carried over by every rotated token (Microsoft identity platform,
 * "refresh tokens ... for SPAs"), so a SPA signs in again daily.
 */
export function refreshExpiry(grant: RefreshGrant, client: Client, b2c: B2CService): { expiresAt: number; windowEnd: number } {
  const { lifetimes } = b2c;
  if (client.kind === 'spa') {
    const end = grant.signedInAt + lifetimes.spaRefreshSeconds * 1000;
    return { expiresAt: end, windowEnd: end };
  }
  const lifetimeEnd = grant.issuedAt + lifetimes.refreshSeconds * 1000;
  // B2C's "No expiry" window: the quoted window time falls back to the token's own end.
  const windowEnd = lifetimes.slidingWindowSeconds === null ? lifetimeEnd : grant.signedInAt + lifetimes.slidingWindowSeconds * 1000;
  return { expiresAt: Math.min(lifetimeEnd, windowEnd), windowEnd };
}

/** A refresh token that passes every check, not yet rotated. */
export function checkRefresh(b2c: B2CService, client: Client, policy: string, form: Record<string, string>): RefreshGrant | TokenRefusal {
  if (!form.refresh_token) return refusals.missing('refresh_token');
  if (!FIVE_SEGMENTS.test(form.refresh_token)) return refusals.malformed();
  const grant = b2c.refreshTokens.get(form.refresh_token);
  if (!grant || grant.tenant !== client.tenant || !samePolicy(grant.policy, policy)) return refusals.unknownGrant();
  if (grant.clientId.toLowerCase() !== client.clientId.toLowerCase()) return refusals.otherClient(client.clientId);
  if (grant.revoked) return refusals.revoked();
  // B2C keeps accepting a superseded refresh token; the strict mode treats reuse as a leak, as rotation's purpose suggests.
  if (grant.rotated && b2c.strictRotation) return refusals.revoked();
  const now = b2c.clock.now();
  const { expiresAt, windowEnd } = refreshExpiry(grant, client, b2c);
  if (now > expiresAt) return refusals.expired(now, grant.issuedAt, windowEnd);
  if (form.redirect_uri && !b2c.registered(client, form.redirect_uri)) return refusals.redirectUri(form.redirect_uri, client.clientId);
  return grant;
}

/** The sign-in a grant stands for. */
interface Session {
  userId: string;
  signedInAt: number;
  nonce?: string;
}

/**
 * Everything before the grant: tenant and policy, client, grant type, scope.
 * `scope` is optional (B2C's documentation marks it "Recommended"): without
 * it the answer is what the code or the refresh token was granted for.
 */
function checkRequest(b2c: B2CService, request: TokenRequest): { tenant: Tenant; client: Client; scopes?: Scopes } | TokenRefusal {
  const tenant = policyTenant(b2c, request.tenant, request.policy);
  if (!tenant) return refusals.unknownPolicy();
  const { clientId, secret } = clientCredentials(request.form, request.authorization);
  if (!clientId) return refusals.noClientId();
  const client = b2c.client(tenant.name, clientId);
  if (!client) return refusals.unknownClient(clientId, tenant.name);
  if (secret) return refusals.secret();
  const grantType = request.form.grant_type;
  if (!grantType) return refusals.missing('grant_type');
  // ROPC is a grant B2C knows but G-REX's applications do not enable (manual chapter 6).
  if (grantType === 'password') return refusals.ropc();
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token') return refusals.unsupportedGrant(grantType);
  if (!request.form.scope?.trim()) return { tenant, client };
  const scopes = parseScopes(request.form.scope, tenant);
  return isTokenRefusal(scopes) ? scopes : { tenant, client, scopes };
}

/** POST token: the tokens, or B2C's refusal. Rotates the refresh token on success only; a code is spent by any attempt (checkCode). */
export function redeemToken(b2c: B2CService, users: (userId: string) => User | undefined, request: TokenRequest): TokenResponse | TokenRefusal {
  const checked = checkRequest(b2c, request);
  if (isTokenRefusal(checked)) return checked;
  const { tenant, client } = checked;
  const byCode = request.form.grant_type === 'authorization_code';
  const grant = byCode ? checkCode(b2c, client, request.policy, request.form) : checkRefresh(b2c, client, request.policy, request.form);
  if (isTokenRefusal(grant)) return grant;
  const user = users(grant.userId);
  if (!user || user.status !== 'Active') return refusals.inactiveUser();

  // A grant's scope was checked when it was granted.
  const scopes = checked.scopes ?? (parseScopes(grant.scope, tenant) as Scopes);
  const session: Session = 'code' in grant ? { userId: grant.userId, signedInAt: grant.issuedAt, nonce: grant.nonce } : { userId: grant.userId, signedInAt: grant.signedInAt };
  const refresh = scopes.offline ? newRefreshToken(b2c, tenant, client, scopes, session) : undefined;
  if (refresh && !('code' in grant)) {
    grant.rotated = true;
    b2c.touch('refreshTokens', grant);
  }
  return tokenResponse(b2c, tenant, client, user, scopes, session, refresh, request.form.client_info === '1');
}

/**
 * A refresh token for a user of the tenant's native client, as if they had
 * just signed in with PKCE and MFA and kept the answer: what an integrator
 * exports from Postman, given without a browser (POST /__admin/refresh-token).
 */
export function grantRefreshToken(b2c: B2CService, tenant: Tenant, userId: string): RefreshGrant {
  const client = b2c.client(tenant.name, tenant.clientId) as Client;
  const scopes = parseScopes(`${apiScope(tenant)} openid offline_access`, tenant) as Scopes;
  return newRefreshToken(b2c, tenant, client, scopes, { userId, signedInAt: b2c.clock.now() });
}

function newRefreshToken(b2c: B2CService, tenant: Tenant, client: Client, scopes: Scopes, session: Session): RefreshGrant {
  const grant: RefreshGrant = {
    token: b2c.opaqueToken(),
    tenant: tenant.name,
    policy: tenant.policy,
    clientId: client.clientId,
    scope: scopes.text,
    userId: session.userId,
    issuedAt: b2c.clock.now(),
    signedInAt: session.signedInAt,
    rotated: false,
    revoked: false,
  };
  b2c.refreshTokens.set(grant.token, grant);
  b2c.touch('refreshTokens', grant);
  return grant;
}

const base64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function tokenResponse(b2c: B2CService, tenant: Tenant, client: Client, user: User, scopes: Scopes, session: Session, refresh: RefreshGrant | undefined, clientInfo: boolean): TokenResponse {
  const { tokens } = b2c;
  const now = seconds(b2c.clock.now());
  const access = scopes.api ? accessToken(tokens, tenant, client, user, session) : undefined;
  const refreshLeft = refresh ? seconds(refreshExpiry(refresh, client, b2c).expiresAt) - now : 0;
  return {
    ...(access ? { access_token: access.token } : {}),
    ...(scopes.openid ? { id_token: idToken(tokens, tenant, client, user, session, now, access?.token) } : {}),
    token_type: 'Bearer',
    not_before: access?.claims.nbf ?? now,
    ...(access ? { expires_in: access.claims.exp - access.claims.iat, expires_on: access.claims.exp, resource: tenant.appId } : {}),
    ...(scopes.openid
      ? {
          id_token_expires_in: tokens.accessTokenLifetimeSeconds,
          profile_info: base64url({ ver: '1.0', tid: tenant.tenantId, sub: null, name: user.displayName, preferred_username: null, idp: 'LocalAccount' }),
        }
      : {}),
    scope: scopes.text,
    ...(refresh ? { refresh_token: refresh.token, refresh_token_expires_in: Math.max(1, refreshLeft) } : {}),
    ...(clientInfo ? { client_info: base64url({ uid: `${user.userId}-${tenant.policy.toLowerCase()}`, utid: tenant.tenantId }) } : {}),
  };
}

/** The access token: for the API (aud = its AppId), with the sign-in's time; the sign-in's `nonce` goes in the ID token only, as B2C does. */
function accessToken(tokens: TokenAuthority, tenant: Tenant, client: Client, user: User, session: Session): { token: string; claims: { nbf: number; iat: number; exp: number } } {
  return tokens.issueAccessToken({ oid: user.userId, name: user.displayName, email: user.email }, tenant, { authTime: seconds(session.signedInAt), clientId: client.clientId });
}

/** OpenID Connect's `at_hash` for RS256: the left half of the access token's SHA-256, base64url. */
const accessTokenHash = (accessToken: string): string => createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');

/**
 * The ID token: about the user, for the client (aud = client id), signed by
 * the same key as the access token, with `at_hash` when it comes with one.
 */
function idToken(tokens: TokenAuthority, tenant: Tenant, client: Client, user: User, session: Session, now: number, accessToken: string | undefined): string {
  return tokens.signJwt({
    exp: now + tokens.accessTokenLifetimeSeconds,
    nbf: now,
    ver: '1.0',
    iss: tokens.issuer(tenant),
    sub: user.userId,
    aud: client.clientId,
    ...(session.nonce ? { nonce: session.nonce } : {}),
    iat: now,
    auth_time: seconds(session.signedInAt),
    oid: user.userId,
    name: user.displayName,
    emails: [user.email],
    tfp: tenant.policy,
    ...(accessToken ? { at_hash: accessTokenHash(accessToken) } : {}),
  });
}

/** The discovery document of a policy, its endpoints on `origin` (the mock's own host); B2C writes the policy in lower case there. */
export function openIdConfiguration(tokens: TokenAuthority, tenant: Tenant, origin: string): object {
  const base = `${origin}${authorityPath(tenant.name, tenant.policy.toLowerCase())}`;
  return {
    issuer: tokens.issuer(tenant),
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/oauth2/v2.0/token`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    response_types_supported: ['code', 'code id_token', 'code token', 'code id_token token', 'id_token', 'id_token token', 'token', 'token id_token'],
    scopes_supported: ['openid'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    claims_supported: ['name', 'emails', 'oid', 'sub', 'idp', 'tfp', 'iss', 'iat', 'exp', 'aud', 'acr', 'nonce', 'auth_time'],
  };
}

/** The tenant, when it has this policy (B2C policy ids are case-insensitive). */
export function policyTenant(b2c: B2CService, tenant: string, policy: string): Tenant | undefined {
  const found = b2c.tenant(tenant);
  return found && samePolicy(found.policy, policy) ? found : undefined;
}


