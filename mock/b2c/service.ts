import { randomBytes, randomInt } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Tenant, TokenAuthority } from '../identity.js';
import type { Changes, RecordKind } from '../state/changes.js';

/**
 * The B2C side of the mock: registered clients, authorization codes,
 * refresh tokens and MFA codes, all on the mock's clock. The authorize flow
 * (mock/b2c/authorize.ts) writes codes; the token endpoint (mock/b2c/token.ts)
 * redeems them and rotates refresh tokens.
 */

/** `native`: desktop/mobile public client (Postman, integrators' tools); `spa`: the registry UI (24-hour refresh tokens). */
export type ClientKind = 'native' | 'spa';

export interface Client {
  tenant: string;
  clientId: string;
  name: string;
  kind: ClientKind;
  redirectUris: string[];
}

export interface AuthorizationCode {
  code: string;
  tenant: string;
  policy: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  userId: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'plain' | 'S256';
  issuedAt: number;
  redeemed: boolean;
}

export interface RefreshGrant {
  token: string;
  tenant: string;
  policy: string;
  clientId: string;
  scope: string;
  userId: string;
  issuedAt: number;
  /** When the sign-in that started this chain of refresh tokens happened (the sliding window runs from it). */
  signedInAt: number;
  /** Replaced by a newer token of its chain (rotation). B2C still accepts it; the strict mode answers AADB2C90129. */
  rotated: boolean;
  revoked: boolean;
}

/** The last MFA code "sent by SMS" to a user. */
export interface MfaCode {
  userId: string;
  code: string;
  issuedAt: number;
}

export interface Lifetimes {
  /** Authorization codes: about 10 minutes in B2C, not configurable. */
  codeSeconds: number;
  /** Refresh tokens of native clients: 14 days by default (1 to 90). */
  refreshSeconds: number;
  /** The sliding window: 90 days by default; null is B2C's "No expiry". */
  slidingWindowSeconds: number | null;
  /** Refresh tokens of single-page applications: fixed 24 hours. */
  spaRefreshSeconds: number;
  /** MFA codes sent "by SMS". */
  mfaSeconds: number;
}

export const DEFAULT_LIFETIMES: Lifetimes = {
  codeSeconds: 600,
  refreshSeconds: 14 * 86_400,
  slidingWindowSeconds: 90 * 86_400,
  spaRefreshSeconds: 86_400,
  mfaSeconds: 300,
};

/** The header B2C puts on its codes and refresh tokens (compact JWE, 5 segments). */
const JWE_HEADER = Buffer.from(JSON.stringify({ kid: 'cpimcore_09252015', ver: '1.0', zip: 'Deflate', ser: '1.0' })).toString('base64url');

export class B2CService {
  readonly codes = new Map<string, AuthorizationCode>();
  readonly refreshTokens = new Map<string, RefreshGrant>();
  /** The last MFA code "sent by SMS" per user id, shown at GET /__admin/mfa?user=. */
  readonly mfaCodes = new Map<string, MfaCode>();
  readonly clients: Client[];
  /** Answer AADB2C90129 to a refresh token that was already rotated (B2C itself keeps accepting it). */
  strictRotation = false;
  /** What changed since the state file's last commit; undefined without a state file. */
  changes: Changes | undefined;

  constructor(
    readonly clock: Clock,
    readonly tokens: TokenAuthority,
    public lifetimes: Lifetimes = DEFAULT_LIFETIMES,
  ) {
    this.clients = tokens.tenants.flatMap((tenant) => [
      { tenant: tenant.name, clientId: tenant.clientId, name: 'G-REX API (Postman and integrations)', kind: 'native' as const, redirectUris: [tenant.replyUrl] },
      { tenant: tenant.name, clientId: registryUiClientId(tenant), name: 'G-REX registry UI', kind: 'spa' as const, redirectUris: [] },
    ]);
  }

  tenant(name: string): Tenant | undefined {
    return this.tokens.tenant(name);
  }

  client(tenant: string, clientId: string): Client | undefined {
    return this.clients.find((client) => client.tenant === tenant && client.clientId.toLowerCase() === clientId.toLowerCase());
  }

  /** A new 5-segment compact-JWE-looking string: opaque to clients, as B2C's codes and refresh tokens are. */
  opaqueToken(): string {
    const part = (bytes: number): string => randomBytes(bytes).toString('base64url');
    return `${JWE_HEADER}.${part(256)}.${part(12)}.${part(48)}.${part(16)}`;
  }

  /** A fresh 6-digit MFA code for a user, replacing the previous one. */
  sendMfaCode(userId: string): string {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const sent = { userId, code, issuedAt: this.clock.now() };
    this.mfaCodes.set(userId, sent);
    this.touch('mfaCodes', sent);
    return code;
  }

  /** A user's MFA code verified one sign-in and is gone. */
  useMfaCode(userId: string): void {
    this.mfaCodes.delete(userId);
    this.changes?.remove('mfaCodes', userId);
  }

  /** Notes a grant (code, refresh token, MFA code) created or changed, for the state file. */
  touch(kind: RecordKind, record: object): void {
    this.changes?.note(kind, record);
  }

  /** Lets the registry UI of a mock at `origin` sign in: its page is the single-page application's reply URL. */
  allowOrigin(origin: string): void {
    const replyUrl = withoutDefaultPort(`${origin}/`);
    for (const client of this.clients) if (client.kind === 'spa' && !client.redirectUris.includes(replyUrl)) client.redirectUris.push(replyUrl);
  }

  /**
   * Whether `uri` is a reply URL of the client: exactly, but for a default
   * port (`https://host:443/` is `https://host/`, which is what a browser's
   * `location.origin` gives on port 443).
   */
  registered(client: Client, uri: string): boolean {
    return client.redirectUris.includes(uri) || client.redirectUris.includes(withoutDefaultPort(uri));
  }

  /** Back to no grants (admin reset). */
  clear(): void {
    this.codes.clear();
    this.refreshTokens.clear();
    this.mfaCodes.clear();
  }

  /** Replaces every grant with saved ones (a restart with --state, a restore). */
  importState(grants: { authorizationCodes: AuthorizationCode[]; refreshTokens: RefreshGrant[]; mfaCodes: MfaCode[] }): void {
    this.clear();
    for (const code of grants.authorizationCodes) this.codes.set(code.code, code);
    for (const grant of grants.refreshTokens) this.refreshTokens.set(grant.token, grant);
    for (const sent of grants.mfaCodes) this.mfaCodes.set(sent.userId, sent);
  }
}

/** A URL without the port its scheme implies (443 for https, 80 for http). */
export const withoutDefaultPort = (uri: string): string => uri.replace(/^(https:\/\/[^/?#]+?):443(?=[/?#]|$)|^(http:\/\/[^/?#]+?):80(?=[/?#]|$)/i, '$1$2');

/** The registry UI's own client id per tenant (not published by Grexel: a stand-in). */
export function registryUiClientId(tenant: Tenant): string {
  return tenant.name === 'gcrfr' ? '1b7c2e4a-6d3f-4a8b-9c1e-5f0a2d4b6c8e' : '7a9e1c3d-2b4f-4e6a-8c0d-1f3b5d7e9a2c';
}

/** `/{tenant}.onmicrosoft.com/{policy}/`: the mock serves both tenants' B2C paths on its own host. */
export function authorityPath(tenant: string, policy: string): string {
  return `/${tenant}.onmicrosoft.com/${policy}`;
}
