import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { cachedText } from '../contracts/lib/cache.js';
import { TailMap } from './tail-map.js';
import type { Clock } from './clock.js';

/** A B2C tenant as the manual's Appendices 2 and 5 describe it. */
export interface Tenant {
  /** `gcrfr` (PROD) or `gcrfdemo` (DEMO). */
  name: string;
  /** The directory's GUID, which B2C puts in `iss`. */
  tenantId: string;
  policy: string;
  clientId: string;
  /** The API application id: the `aud` of access tokens, and the `{AppId}` of the scope. */
  appId: string;
  replyUrl: string;
}

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
  nonce?: string;
}

export type Verification = { ok: true; claims: AccessClaims; tenant: Tenant } | { ok: false; reason: string };

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');
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
  private readonly verified = new TailMap<{ claims: AccessClaims; tenant: Tenant } | null>(CACHE_LIMIT);

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
    return `https://${tenant.name}.b2clogin.com/${tenant.tenantId}/v2.0/`;
  }

  tenant(name: string): Tenant | undefined {
    return this.tenants.find((tenant) => tenant.name === name);
  }

  jwks(): { keys: object[] } {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return { keys: [{ kid: this.kid, nbf: 1493763266, use: 'sig', kty: 'RSA', e: jwk.e, n: jwk.n }] };
  }

  /** `clientId`: the client the token is for (`azp`); the tenant's API client (Postman, integrations) by default. */
  issueAccessToken(user: TokenUser, tenant: Tenant, options: { nonce?: string; lifetimeSeconds?: number; clientId?: string } = {}): { token: string; claims: AccessClaims } {
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
      ...(options.nonce ? { nonce: options.nonce } : {}),
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
   * Signature, issuer, audience, scope and time (on the mock's clock); the
   * caller checks the user. Signatures are checked once per `key`: the token,
   * or the whole header it came in.
   */
  verify(token: string, key = token): Verification {
    let entry = this.verified.get(key);
    if (entry === undefined) {
      entry = this.checkSignature(token);
      this.verified.set(key, entry);
    }
    if (entry === null) return { ok: false, reason: 'the token is malformed or not signed by this issuer' };
    const now = this.clock.now() / 1000;
    const { claims } = entry;
    if (claims.exp <= now) return { ok: false, reason: `the token expired at ${new Date(claims.exp * 1000).toISOString()}` };
    if (claims.nbf > now + 300) return { ok: false, reason: 'the token is not valid yet' };
    return { ok: true, claims, tenant: entry.tenant };
  }

  private checkSignature(token: string): { claims: AccessClaims; tenant: Tenant } | null {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    try {
      const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as { alg?: string; kid?: string };
      if (header.alg !== 'RS256' || header.kid !== this.kid) return null;
      if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, Buffer.from(parts[2], 'base64url'))) return null;
      const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as AccessClaims;
      const tenant = this.byIssuer.get(claims.iss);
      if (!tenant || claims.aud !== tenant.appId) return null;
      if (typeof claims.scp !== 'string' || !claims.scp.split(' ').includes('user_impersonation')) return null;
      if (typeof claims.exp !== 'number' || typeof claims.nbf !== 'number' || typeof claims.oid !== 'string') return null;
      return { claims, tenant };
    } catch {
      return null;
    }
  }
}
