import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { ContractSet } from '../contracts/lib/load.js';
import { TENANTS } from '../mock/app.js';
import { DEFAULT_FAIR_USE } from '../mock/fairuse.js';
import { startMock, type RunningMock } from '../mock/server.js';

/** Every fixture user's password (README, "Signing in"). */
const FIXTURE_PASSWORD = 'Grex-Mock-2026!';

export interface ClientRun {
  /** How the client ended: its exit code, or why it did not. */
  outcome: { kind: 'exited'; code: number } | { kind: 'timeout'; seconds: number } | { kind: 'signal'; signal: string } | { kind: 'not-started'; reason: string };
  log: string;
  env: Record<string, string>;
}

/**
 * The environment a G-REX client expects, under the manual's names: the base
 * URIs (Appendix 1/4: BaseURIManagementAPI, ...) and the B2C token
 * environment (Appendix 2/5: ClientId, B2CDirectoryName, SignInPolicyId,
 * AppId, ReplyUrl, RefreshToken), with the fixes of mock/b2c/postman.ts
 * (B2CHost); plus the test user's name and password for a client that signs
 * in interactively.
 */
export async function clientEnvironment(mock: RunningMock, user: string, tenantName: string): Promise<Record<string, string>> {
  const tenant = TENANTS.find((candidate) => candidate.name === tenantName);
  if (!tenant) throw new Error(`no tenant ${tenantName}; known: ${TENANTS.map((t) => t.name).join(', ')}`);
  const response = await fetch(`${mock.url}/__admin/refresh-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, tenant: tenant.name }) });
  const grant = (await response.json()) as { refresh_token?: string; scope?: string; error?: string };
  if (!response.ok || !grant.refresh_token) throw new Error(`no refresh token for user "${user}": ${grant.error ?? response.status}`);
  const env: Record<string, string> = {};
  for (const contract of mock.app.contracts.contracts) {
    if (contract.grex.postmanVariable) env[contract.grex.postmanVariable] = `${mock.url}/${contract.grex.api}`;
  }
  Object.assign(env, {
    B2CHost: mock.url,
    B2CDirectoryName: tenant.name,
    SignInPolicyId: tenant.policy,
    ClientId: tenant.clientId,
    AppId: tenant.appId,
    ReplyUrl: tenant.replyUrl,
    Scope: grant.scope ?? `https://${tenant.name}.onmicrosoft.com/${tenant.appId}/user_impersonation openid offline_access`,
    RefreshToken: grant.refresh_token,
    Username: user,
    Password: FIXTURE_PASSWORD,
  });
  return env;
}

/** How long certify's registry takes over a write before handling it: G-REX's own latency, in small. */
export const WRITE_LATENCY_MS = 50;

/**
 * Starts the mock as G-REX behaves: firewall and fair use on, every exchange
 * appended to `journal`. The mock would answer at once, so its journal could
 * not show a client that sends a write before the previous one was answered
 * (manual 1.3.2): certify gives writes the registry's latency, in small.
 */
export async function startCertifyMock(journal: string, contracts?: ContractSet): Promise<RunningMock> {
  return startMock({ port: 0, host: '127.0.0.1', contracts, journalSpillFile: journal, journalCapacity: 1000, writeLatencyMs: WRITE_LATENCY_MS, fairUse: { ...DEFAULT_FAIR_USE } });
}

/**
 * Runs the client's command with `env` added, its output to `<dir>/client.log`,
 * and kills its whole process group once `timeoutSeconds` have passed. A
 * single argument with spaces is a shell command line (GREX_CLIENT_CMD).
 */
export function runClient(command: string[], env: Record<string, string>, dir: string, timeoutSeconds: number): Promise<ClientRun> {
  const log = join(dir, 'client.log');
  const out = createWriteStream(log);
  const shell = command.length === 1 && /\s/.test(command[0]);
  return new Promise((resolve) => {
    const child = spawn(command[0], shell ? [] : command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true, shell });
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutSeconds * 1000);
    const done = (outcome: ClientRun['outcome']) => {
      clearTimeout(timer);
      out.end(() => resolve({ outcome, log, env }));
    };
    child.once('error', (error) => done({ kind: 'not-started', reason: error.message }));
    child.once('close', (code, signal) => {
      if (timedOut) done({ kind: 'timeout', seconds: timeoutSeconds });
      else if (signal) done({ kind: 'signal', signal });
      else done({ kind: 'exited', code: code ?? 0 });
    });
  });
}
