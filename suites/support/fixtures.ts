import { test as base, expect } from '@playwright/test';
import { TENANTS } from '../../mock/app.js';
import { budgetSettings, FairUseBudget } from './budget.js';
import { GrexHttp, transcript, type Exchange, type SendOptions } from './http.js';
import { contractProblems, type GetOperation, type WriteOperation } from './operations.js';
import { startScenarioMock } from './scenario-mock.js';
import { demoTarget, MOCK_ORIGIN, mockTarget, ORACLE_ORIGIN, type Target, type TargetName } from './target.js';

export interface Tokens {
  access: string;
  refresh?: string;
  /** B2C's answer they came in (a refresh), for checks on it. */
  exchange?: Exchange;
}

interface FixtureUser {
  username: string;
  organization?: string;
  roles: string[];
}

/**
 * What a worker keeps between tests: access tokens (per fixture user on the
 * mock; the one signed-in user on DEMO), the fixture users, and the lists
 * path parameters were taken from (each read once, to spare DEMO's budget).
 */
export class Session {
  private readonly tokens = new Map<string, { access: string; expiresAt: number }>();
  private users?: FixtureUser[];
  private readonly lists = new Map<string, Exchange>();
  /** DEMO: the refresh token to redeem next (B2C rotates it). */
  refreshToken?: string;

  constructor(readonly target: Target) {
    this.refreshToken = target.refreshToken;
  }

  /**
   * The fixture user to act as for an operation (mock): one holding a role it
   * grants, and one its `parent` grants too (the list its path parameter
   * comes from), from the organisations with data in every area first.
   */
  async userFor(http: GrexHttp, operation: GetOperation | WriteOperation, parent?: GetOperation): Promise<string | undefined> {
    if (operation.anonymous) return undefined;
    if (!this.target.admin) return 'signed-in';
    this.users ??= (await http.admin('GET', '/__admin/users')).response.json as FixtureUser[];
    const granted = (candidate: GetOperation | WriteOperation | undefined) => new Set(candidate?.grants.flatMap((grant) => grant.roles));
    const roles = granted(operation);
    const parentRoles = granted(parent);
    // No grants: an operation only G-REX's own document has (GREX_CONTRACTS), which any signed-in user may call.
    const permitted = this.users.filter(
      (user) => (roles.size === 0 || user.roles.some((role) => roles.has(role))) && (parentRoles.size === 0 || user.roles.some((role) => parentRoles.has(role))),
    );
    const preferred = permitted.find((user) => PREFERRED_USERS.includes(user.username)) ?? permitted[0];
    if (!preferred) throw new Error(`no fixture user holds a role ${operation.operationId} grants (${[...roles].join(', ')})`);
    return preferred.username;
  }

  /** An access token: a fixture user's from /__admin/token on the mock, the signed-in user's on DEMO (from the refresh token). */
  async token(http: GrexHttp, username = 'signed-in'): Promise<string> {
    const known = this.tokens.get(username);
    if (known && known.expiresAt > Date.now() + 60_000) return known.access;
    const tokens = this.target.admin && username !== 'signed-in' ? await this.adminToken(http, username) : await this.refresh(http);
    return tokens.access;
  }

  /** Redeems the current refresh token at B2C (the manual's "Get access token via refresh token") and keeps the rotated one. */
  async refresh(http: GrexHttp): Promise<Tokens> {
    if (!this.refreshToken) {
      if (!this.target.admin) throw new Error('no refresh token: set GREX_DEMO_REFRESH_TOKEN');
      // On the mock, the refresh token a native client holds after a PKCE sign-in, for the home organisation's root.
      this.refreshToken = (await http.admin('POST', '/__admin/refresh-token', { user: PREFERRED_USERS[0], tenant: this.target.b2c.tenant })).response.json.refresh_token;
    }
    const { clientId, appId, tenant, replyUrl } = this.target.b2c;
    const reply = await http.b2cToken({
      grant_type: 'refresh_token',
      client_id: clientId,
      scope: `https://${tenant}.onmicrosoft.com/${appId}/user_impersonation openid offline_access`,
      refresh_token: this.refreshToken as string,
      redirect_uri: replyUrl,
    });
    if (reply.response.status !== 200) throw new Error(`B2C refused the refresh token: ${reply.response.status} ${reply.response.text.slice(0, 300)}`);
    const { access_token: access, refresh_token: refresh, expires_in: lifetime } = reply.response.json as { access_token: string; refresh_token?: string; expires_in: number };
    // The old refresh token may be spent already: keep the rotated one before judging the answer.
    if (typeof refresh === 'string') this.refreshToken = refresh;
    expect(contractProblems('b2c', 'b2cRedeemToken', reply), "B2C's token response against the contract's TokenResponse (contracts/b2c.yaml)").toEqual([]);
    this.tokens.set('signed-in', { access, expiresAt: Date.now() + Number(lifetime) * 1000 });
    return { access, refresh, exchange: reply };
  }

  /** A collection read once per worker (the parents of path parameters). */
  async list(key: string, read: () => Promise<Exchange>): Promise<Exchange> {
    const known = this.lists.get(key);
    if (known) return known;
    const exchange = await read();
    if (exchange.response.status === 200) this.lists.set(key, exchange);
    return exchange;
  }

  private async adminToken(http: GrexHttp, username: string): Promise<Tokens> {
    const reply = await http.admin('POST', '/__admin/token', { user: username });
    if (reply.response.status !== 200) throw new Error(`no token for ${username}: ${reply.response.text}`);
    const { access_token: access, expires_in: lifetime } = reply.response.json as { access_token: string; expires_in: number };
    // The mock's clock may run ahead of the machine's; a token is kept for a minute at most.
    this.tokens.set(username, { access, expiresAt: Date.now() + Math.min(Number(lifetime) * 1000, 120_000) });
    return { access };
  }
}

/** The fixture users whose organisations have data in every area (devices, issuance, scheduled transfers): lists to take path parameters from. */
export const PREFERRED_USERS = ['eolien-root', 'ib-root'];

export function resolveTarget(name: TargetName): Target {
  const demo = TENANTS.find((tenant) => tenant.name === 'gcrfdemo')!;
  if (name === 'mock') return mockTarget('mock', MOCK_ORIGIN, MOCK_ORIGIN, demo);
  if (name === 'oracle') return mockTarget('oracle', MOCK_ORIGIN, ORACLE_ORIGIN, demo);
  const resolved = demoTarget();
  if ('target' in resolved) return resolved.target;
  throw new Error('missing' in resolved ? `demo project: ${resolved.missing}` : resolved.error);
}

export interface Grex {
  target: Target;
  http: GrexHttp;
  session: Session;
  /** A G-REX call; `as` a fixture user (mock), the signed-in user (`signed-in`), or anonymous (`undefined`). */
  call(contract: string, method: string, path: string, options?: SendOptions & { as?: string }): Promise<Exchange>;
  /**
   * One check, as a step of the report named `title`. When it fails, that
   * step carries the transcript of every exchange of the test so far: the
   * evidence sits on the failed step, not in the test's teardown.
   */
  check<T>(title: string, body: () => T | Promise<T>): Promise<T>;
}

/** An exchange's attachment name: its place in the test, method, path and status. */
const transcriptName = (exchange: Exchange, index: number): string => `${index + 1} ${exchange.request.method} ${new URL(exchange.request.url).pathname} -> ${exchange.response.status}`;

export const test = base.extend<
  { grex: Grex },
  { grexTarget: TargetName; grexScenario: string | undefined; target: Target; session: Session; budget: FairUseBudget | undefined }
>({
  grexTarget: ['mock', { option: true, scope: 'worker' }],
  /**
   * A scenario for the tests of one file (`test.use({ grexScenario: 'locked-account' })`,
   * fixtures/scenarios/): on the mock, the file gets a mock of its own started
   * from it, beside the shared one. Scenario files are `@mock`: DEMO has none.
   */
  grexScenario: [undefined, { option: true, scope: 'worker' }],
  target: [
    async ({ grexTarget, grexScenario }, use) => {
      if (!grexScenario || grexTarget !== 'mock') return use(resolveTarget(grexTarget));
      const mock = await startScenarioMock(grexScenario);
      try {
        await use(mockTarget('mock', mock.origin, mock.origin, TENANTS.find((tenant) => tenant.name === 'gcrfdemo')!));
      } finally {
        await mock.stop();
      }
    },
    { scope: 'worker' },
  ],
  budget: [
    async ({ target }, use) => {
      // Only DEMO has a fair-use policy the suites must respect; the mock's suites provoke its limits on purpose.
      if (target.name !== 'demo') return use(undefined);
      const settings = budgetSettings(new URL(target.baseUris.management).origin);
      if (typeof settings === 'string') throw new Error(settings);
      await use(new FairUseBudget(settings, process.env.GREX_RUN_ID ?? 'unnamed-run'));
    },
    { scope: 'worker' },
  ],
  session: [async ({ target }, use) => use(new Session(target)), { scope: 'worker' }],
  grex: async ({ target, session, budget }, use, testInfo) => {
    const http = new GrexHttp(target, budget);
    let shown = false;
    const attachTranscripts = async () => {
      shown = true;
      for (const [index, exchange] of http.exchanges.entries()) await testInfo.attach(transcriptName(exchange, index), { body: transcript(exchange), contentType: 'text/plain' });
    };
    const check: Grex['check'] = (title, body) =>
      base.step(
        title,
        async () => {
          try {
            return await body();
          } catch (error) {
            // Attached inside the step, the transcripts belong to it in the Playwright and Allure reports.
            await attachTranscripts();
            throw error;
          }
        },
        { box: true },
      );
    const call: Grex['call'] = async (contract, method, path, options = {}) => {
      const { as, ...rest } = options;
      const token = as ? await session.token(http, as) : undefined;
      const exchange = await http.api(contract, method, path, { ...rest, token });
      // Prism's validation proxy names what it found wrong in this header: the oracle's verdict, on each exchange.
      const violations = exchange.response.headers['sl-violations'];
      if (violations) await check(`Prism (the independent oracle) accepts ${method} ${path}`, () => expect(violations, 'Prism (the independent oracle) reported contract violations').toBeUndefined());
      return exchange;
    };
    await use({ target, http, session, call, check });
    // A failure outside any check (a helper that threw) still shows its exchanges, in the teardown.
    if (!shown && testInfo.status !== testInfo.expectedStatus) await attachTranscripts();
  },
});

export { expect };
