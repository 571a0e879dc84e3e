import { readFileSync } from 'node:fs';
import { loadContracts } from '../../contracts/lib/load.js';

/** The six G-REX APIs by their manual Postman variable (`BaseURIManagementAPI`, ...): its contract name and path segment. */
export const APIS: { variable: string; contract: string; api: string }[] = loadContracts()
  .contracts.filter((contract) => contract.grex.postmanVariable)
  .map((contract) => ({ variable: contract.grex.postmanVariable as string, contract: contract.name, api: contract.grex.api }));

/** What B2C the suites sign in with: the fields of the manual's B2C Postman environment (Appendix 5). */
export interface B2cSettings {
  /** `https://gcrfdemo.b2clogin.com` on DEMO; the mock's address for the mock. */
  host: string;
  tenant: string;
  policy: string;
  clientId: string;
  appId: string;
  replyUrl: string;
}

export type TargetName = 'mock' | 'oracle' | 'demo';

/** The port of the mock the config starts (GREX_SUITE_PORT, default 4610); Prism, for the oracle project, listens on the next one. */
export const SUITE_PORT = Number(process.env.GREX_SUITE_PORT ?? 4610);
/**
 * GREX_SUITE_MOCK: the origin of a mock already running (the mutation run's,
 * which swaps its faults between runs), so the config starts none.
 */
export const RUNNING_MOCK = process.env.GREX_SUITE_MOCK?.replace(/\/+$/, '') || undefined;
export const MOCK_ORIGIN = RUNNING_MOCK ?? `http://127.0.0.1:${SUITE_PORT}`;
export const ORACLE_ORIGIN = `http://127.0.0.1:${SUITE_PORT + 1}`;

/** Where a project's suites send their requests. */
export interface Target {
  name: TargetName;
  /** Base URI per contract name (`management` -> `http://host/managementapi`). */
  baseUris: Record<string, string>;
  b2c: B2cSettings;
  /** The mock's admin API; DEMO has none, so the demo project never has it. */
  admin?: string;
  /** DEMO: the refresh token the user got from a PKCE sign-in (Postman, manual 3.1). */
  refreshToken?: string;
}

const DEMO_DEFAULTS = { tenant: 'gcrfdemo', policy: 'B2C_1_SignIn', clientId: '9e818394-185c-47e7-8b93-714714bfcf8f' };

/** The line the demo project prints when it is not configured: what to set. */
export const DEMO_HOW_TO =
  'set GREX_DEMO_POSTMAN_ENV (the G-REX DEMO Postman environment you exported, manual Appendix 4; or GREX_DEMO_BASE_URI=https://eexfrancedemoapi.grexel.com), ' +
  'GREX_DEMO_B2C_ENV (the B2C token environment, Appendix 5; or GREX_DEMO_APP_ID) and GREX_DEMO_REFRESH_TOKEN (or RefreshToken in the B2C environment)';

/** A Postman environment's enabled values by key, or a one-line reason it cannot be read. */
function postmanValues(variable: string, file: string): Record<string, string> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not JSON (${(error as Error).message})`;
    return `${variable}=${file}: ${reason}`;
  }
  const values = (parsed as { values?: unknown }).values;
  if (!Array.isArray(values)) return `${variable}=${file}: not a Postman environment (no "values" list)`;
  const out: Record<string, string> = {};
  for (const entry of values as { key?: unknown; value?: unknown; enabled?: unknown }[]) {
    if (typeof entry?.key === 'string' && typeof entry.value === 'string' && entry.enabled !== false && entry.value !== '') out[entry.key] = entry.value;
  }
  return out;
}

/**
 * The DEMO target as the user configured it: a Postman environment file or
 * variables, the manual's variable names, the defects of Appendix 5 tolerated
 * (`Appld` for `AppId`, `ReplyUri` for `ReplyUrl`). `missing` lists what is
 * not set; `error` is a file that cannot be read.
 */
export function demoTarget(env: NodeJS.ProcessEnv = process.env): { target: Target } | { missing: string } | { error: string } {
  const grex = env.GREX_DEMO_POSTMAN_ENV ? postmanValues('GREX_DEMO_POSTMAN_ENV', env.GREX_DEMO_POSTMAN_ENV) : {};
  if (typeof grex === 'string') return { error: grex };
  const b2c = env.GREX_DEMO_B2C_ENV ? postmanValues('GREX_DEMO_B2C_ENV', env.GREX_DEMO_B2C_ENV) : {};
  if (typeof b2c === 'string') return { error: b2c };

  const root = env.GREX_DEMO_BASE_URI?.replace(/\/+$/, '');
  const baseUris: Record<string, string> = {};
  for (const { variable, contract, api } of APIS) {
    const uri = env[`GREX_DEMO_${variable}`] ?? grex[variable] ?? (root ? `${root}/${api}` : undefined);
    if (uri) baseUris[contract] = uri.replace(/\/+$/, '');
  }
  const tenant = env.GREX_DEMO_B2C_TENANT ?? b2c.B2CDirectoryName ?? DEMO_DEFAULTS.tenant;
  const appId = env.GREX_DEMO_APP_ID ?? b2c.AppId ?? b2c.Appld;
  const refreshToken = env.GREX_DEMO_REFRESH_TOKEN ?? b2c.RefreshToken;
  const missing = [
    ...(Object.keys(baseUris).length < APIS.length ? ['GREX_DEMO_POSTMAN_ENV or GREX_DEMO_BASE_URI'] : []),
    ...(appId ? [] : ['GREX_DEMO_B2C_ENV or GREX_DEMO_APP_ID']),
    ...(refreshToken ? [] : ['GREX_DEMO_REFRESH_TOKEN']),
  ];
  if (missing.length === 3) return { missing: DEMO_HOW_TO };
  if (missing.length > 0) return { missing: `still missing ${missing.join(', ')}: ${DEMO_HOW_TO}` };
  return {
    target: {
      name: 'demo',
      baseUris,
      b2c: {
        host: (env.GREX_DEMO_B2C_HOST ?? b2c.B2CHost ?? `https://${tenant}.b2clogin.com`).replace(/\/+$/, ''),
        tenant,
        policy: env.GREX_DEMO_B2C_POLICY ?? b2c.SignInPolicyId ?? DEMO_DEFAULTS.policy,
        clientId: env.GREX_DEMO_CLIENT_ID ?? b2c.ClientId ?? DEMO_DEFAULTS.clientId,
        appId: appId as string,
        replyUrl: b2c.ReplyUrl ?? b2c.ReplyUri ?? `https://${tenant}.b2clogin.com/oauth2/nativeclient`,
      },
      refreshToken,
    },
  };
}

/** A mock started by the config: every API under its address, B2C's gcrfdemo tenant there too; `apiOrigin` is where the APIs are reached (Prism, for the oracle). */
export function mockTarget(name: 'mock' | 'oracle', mockOrigin: string, apiOrigin: string, tenant: { clientId: string; appId: string; replyUrl: string }): Target {
  return {
    name,
    baseUris: Object.fromEntries(APIS.map(({ contract, api }) => [contract, `${apiOrigin}/${api}`])),
    b2c: { host: mockOrigin, tenant: 'gcrfdemo', policy: 'B2C_1_SignIn', ...tenant },
    admin: mockOrigin,
  };
}
