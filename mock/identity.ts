import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { cachedText } from '../contracts/lib/cache.js';
import { TailMap } from './tail-map.js';
import type { Clock } from './clock.js';

/** A B2C tenant as the manual's Appendices 2 and 5 describe it. */
export interface Tenant {
  /** `gcrfr` (PROD) or `gcrfdemo` (DEMO). */
  name: string;
  /** Which G-REX environment the tenant signs in to. */
  environment: 'DEMO' | 'PROD';
  /** The directory's GUID, which B2C puts in `iss`. */
  tenantId: string;
  policy: string;
  clientId: string;
  /** The API application id: the `aud` of access tokens, and the `{AppId}` of the scope. */
  appId: string;
  replyUrl: string;
  /** The G-REX host whose APIs take this tenant's tokens (DEMO's or PROD's). */
  apiHost: string;
}

/** The tenant's B2C host, `{tenant}.b2clogin.com`: its sign-in pages, token endpoint and the `iss` of its tokens. */
export const b2cHost = (tenant: Tenant): string => `${tenant.name}.b2clogin.com`;

export interface TokenUser {
  oid: string;
  name: string;
  email: string;
}

export interface AccessClaims {
  iss: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  oid: string;
  sub: string;
  name: string;
  emails: string[];
  tfp: string;
  scp: string;
  azp: string;
  ver: string;
  /** When the user entered their credentials (Unix seconds). B2C puts the sign-in's `nonce` in the ID token only. */
  auth_time: number;
}

export type Verification = { ok: true; claims: AccessClaims; tenant: Tenant } | { ok: false; reason: string };

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const NOT_SIGNED = 'the token is malformed or not signed by this issuer';
const CACHE_LIMIT = 50_000;

/**
 * Signs and verifies B2C-shaped access tokens (RS256, with a kid). Signatures
 * are checked once per token and remembered; time claims are checked on the
 * mock's clock at every use.
 */
export class TokenAuthority {
  readonly kid: string;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly byIssuer = new Map<string, Tenant>();
  private readonly verified = new TailMap<{ claims: AccessClaims; tenant: Tenant } | string>(CACHE_LIMIT);

  constructor(
    private readonly clock: Clock,
    readonly tenants: Tenant[],
    readonly accessTokenLifetimeSeconds = 3600,
  ) {
    // One key per installation, kept in the cache: tokens stay valid when the mock restarts, and start-up skips key generation.
    const pem = cachedText('signing-key.pem', () => String(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' })));
    this.privateKey = createPrivateKey(pem);
    this.publicKey = createPublicKey(this.privateKey);
    const jwk = this.publicKey.export({ format: 'jwk' });
    this.kid = b64url(String(jwk.n).slice(0, 24)).slice(0, 32);
    for (const tenant of tenants) this.byIssuer.set(this.issuer(tenant), tenant);
  }

  issuer(tenant: Tenant): string {
    return `https://${b2cHost(tenant)}/${tenant.tenantId}/v2.0/`;
  }

  tenant(name: string): Tenant | undefined {
    return this.tenants.find((tenant) => tenant.name === name);
  }

  jwks(): { keys: object[] } {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return { keys: [{ kid: this.kid, nbf: 1493763266, use: 'sig', kty: 'RSA', e: jwk.e, n: jwk.n }] };
  }

  /**
   * `clientId`: the client the token is for (`azp`); the tenant's API client
   * (Postman, integrations) by default. `authTime`: when the user signed in
   * (Unix seconds); now by default.
   */
  issueAccessToken(user: TokenUser, tenant: Tenant, options: { authTime?: number; lifetimeSeconds?: number; clientId?: string } = {}): { token: string; claims: AccessClaims } {
    const now = Math.floor(this.clock.now() / 1000);
    const claims: AccessClaims = {
      iss: this.issuer(tenant),
      aud: tenant.appId,
      exp: now + (options.lifetimeSeconds ?? this.accessTokenLifetimeSeconds),
      nbf: now,
      iat: now,
      oid: user.oid,
      sub: user.oid,
      name: user.name,
      emails: [user.email],
      tfp: tenant.policy,
      scp: 'user_impersonation',
      azp: options.clientId ?? tenant.clientId,
      ver: '1.0',
      auth_time: options.authTime ?? now,
    };
    return { token: this.signJwt(claims), claims };
  }

  signJwt(claims: object): string {
    const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: this.kid }));
    const body = b64url(JSON.stringify(claims));
    const signature = sign('sha256', Buffer.from(`${head}.${body}`), this.privateKey);
    return `${head}.${body}.${b64url(signature)}`;
  }

  /**
   * Signature, issuer, audience, policy, scope and time (on the mock's clock);
   * the caller checks the user. Tokens are judged once per `key` (the token,
   * or the whole header it came in) and the verdict remembered; the times
   * are checked at every use.
   */
  verify(token: string, key = token): Verification {
    let entry = this.verified.get(key);
    if (entry === undefined) {
      entry = this.judge(token);
      this.verified.set(key, entry);
    }
    if (typeof entry === 'string') return { ok: false, reason: entry };
    const now = this.clock.now() / 1000;
    const { claims } = entry;
    if (claims.exp <= now) return { ok: false, reason: `the token expired at ${new Date(claims.exp * 1000).toISOString()}` };
    if (claims.nbf > now + 300) return { ok: false, reason: 'the token is not valid yet' };
    return { ok: true, claims, tenant: entry.tenant };
  }

  /** The claims and tenant of a token B2C's sign-in policy issued, or why not. */
  private judge(token: string): { claims: AccessClaims; tenant: Tenant } | string {
    // Strictly three base64url segments: a decoder skips what is not base64url, so `<token>!!` would verify as `<token>`.
    if (!COMPACT_JWS.test(token)) return 'the token is not three base64url segments (header.payload.signature)';
    const parts = token.split('.');
    const signature = Buffer.from(parts[2], 'base64url');
    // A last character with stray low bits decodes to the same bytes: only the one canonical spelling is the signature.
    if (signature.toString('base64url') !== parts[2]) return 'the token is not three base64url segments (header.payload.signature)';
    let claims: AccessClaims;
    try {
      const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as { alg?: string; kid?: string };
      if (header.alg !== 'RS256' || header.kid !== this.kid || !verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, signature)) return NOT_SIGNED;
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as AccessClaims;
    } catch {
      return NOT_SIGNED;
    }
    // A payload of `null` or a number is JSON too.
    if (typeof claims !== 'object' || claims === null) return NOT_SIGNED;
    const tenant = this.byIssuer.get(claims.iss);
    if (!tenant || claims.aud !== tenant.appId) return NOT_SIGNED;
    // The tokens G-REX accepts come from its sign-in policy; a token of another user flow (password reset, a test policy) is not one.
    if (typeof claims.tfp !== 'string') return `the token names no policy (tfp); G-REX accepts tokens of ${tenant.policy}`;
    if (claims.tfp.toLowerCase() !== tenant.policy.toLowerCase()) return `the token was issued by the policy ${claims.tfp}, not ${tenant.policy}`;
    if (typeof claims.scp !== 'string' || !claims.scp.split(' ').includes('user_impersonation')) return NOT_SIGNED;
    if (typeof claims.exp !== 'number' || typeof claims.nbf !== 'number' || typeof claims.oid !== 'string') return NOT_SIGNED;
    return { claims, tenant };
  }
}
