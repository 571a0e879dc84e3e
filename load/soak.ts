/**
 * Scenario 3: a soak of writes. Ten account holders each write once a second
 * for SOAK.seconds: a single-certificate transfer, or every fourth time a
 * batch of five scheduled transfers due two mock minutes later; holder 0
 * moves the mock's clock a minute every five writes, so scheduled transfers
 * run during the soak. At the end the clock settles and the registry is
 * checked: every write answered 201, no 429, every scheduled transfer of the
 * soak Completed, no MWh created or lost, one Transfer transaction per
 * transfer and per scheduled transfer executed.
 *
 *   k6 run -e GREX_URL=http://127.0.0.1:4600 load/soak.ts   (any profile; -e SOAK_SECONDS=120 for a longer soak:
 *   not much longer, the clock runs a minute per five seconds and tokens live an hour on it)
 */
import { check, fail, sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';
import { admin, headers, holderOfVu, BASE } from './grex.ts';
import { FAIR_USE, REQUEST_ID_HEADER, SOAK, pickHolders, soakRoute, soakVolumeProblems, soakWrite, type AccountView, type BundleView, type FixtureUser, type Holder, type RegistryState, type SoakRoute } from './plan.ts';

const seconds = Number(__ENV.SOAK_SECONDS ?? SOAK.seconds);
const volumeProblems = new Counter('soak_volume_problems');
const unfinished = new Counter('soak_scheduled_not_completed');

export const options: Options = {
  scenarios: {
    soak: { executor: 'constant-vus', vus: SOAK.holders, duration: `${seconds}s`, gracefulStop: '10s', exec: 'write' },
  },
  thresholds: {
    'http_reqs{name:write,status:429}': ['count==0'],
    'checks{name:write}': ['rate==1'],
    soak_volume_problems: ['count==0'],
    soak_scheduled_not_completed: ['count==0'],
  },
};

interface SoakData {
  holders: Holder[];
  tokens: string[];
  routes: SoakRoute[];
  before: RegistryState;
}

function read<T>(token: string, path: string): T {
  const response = http.get(`${BASE}${path}`, { headers: headers(token, `soak-setup-${path}`), tags: { name: 'setup read' } });
  if (response.status !== 200) fail(`GET ${path}: ${response.status} ${String(response.body)}`);
  return response.json() as T;
}

const accountsPath = '/managementapi/AH/managementapi/Accounts?$top=500&$skip=0';
const bundlesPath = `/privatereportsapi/AH/privatereportsapi/Certificates?$top=500&$skip=0&$filter=${encodeURIComponent("status eq 'Active'")}`;

export function setup(): SoakData {
  admin('POST', '/__admin/reset');
  admin('POST', '/__admin/fairuse', FAIR_USE);
  const candidates = pickHolders(admin('GET', '/__admin/users') as FixtureUser[], undefined, ['AH']);
  const today = (admin('GET', '/__admin/clock') as { now: string }).now.slice(0, 10);
  const tokens = candidates.map((holder) => (admin('POST', '/__admin/token', { user: holder.username }) as { access_token: string }).access_token);
  const accounts = new Map<number, AccountView[]>();
  const accountsOf = (c: number): AccountView[] => accounts.get(c) ?? accounts.set(c, read<AccountView[]>(tokens[c], accountsPath)).get(c)!;
  // The first SOAK.holders candidates with a usable route play, each sending to the next candidate.
  const data: SoakData = { holders: [], tokens: [], routes: [], before: admin('GET', '/__admin/state') as RegistryState };
  for (let c = 0; c < candidates.length && data.holders.length < SOAK.holders; c++) {
    const route = soakRoute(accountsOf(c), read<BundleView[]>(tokens[c], bundlesPath), accountsOf((c + 1) % candidates.length), today, seconds);
    if (!route) continue;
    data.holders.push(candidates[c]);
    data.tokens.push(tokens[c]);
    data.routes.push(route);
  }
  if (data.holders.length < SOAK.holders) fail(`only ${data.holders.length} holders have a bundle and a destination for the soak`);
  data.before = admin('GET', '/__admin/state') as RegistryState;
  return data;
}

export function write(data: SoakData): void {
  const holder = holderOfVu(SOAK.holders);
  const w = exec.vu.iterationInScenario;
  const started = Date.now();
  const now = Date.parse((admin('GET', '/__admin/clock') as { now: string }).now);
  const next = soakWrite(data.routes[holder], w, now, holder);
  const path = next.kind === 'transfer' ? '/transactionapi/AH/transactionapi/Transfers' : '/transactionapi/AH/transactionapi/ScheduledTransactions';
  const response = http.post(`${BASE}${path}`, JSON.stringify(next.body), { headers: headers(data.tokens[holder], `soak-${holder}-${w}`, true), tags: { name: 'write', kind: next.kind } });
  const ok = check(response, { 'write answered 201': (r) => r.status === 201 }, { name: 'write' });
  if (!ok) console.error(`holder ${holder} write ${w}: ${response.status} ${String(response.body)}`);
  if (holder === 0 && (w + 1) % SOAK.clockEvery === 0) admin('POST', '/__admin/clock', { advance: SOAK.clockStep });
  const left = SOAK.writeEverySeconds * 1000 - (Date.now() - started);
  if (left > 0) sleep(left / 1000);
}

export function teardown(data: SoakData): void {
  admin('POST', '/__admin/clock', { advance: SOAK.settle });
  let notCompleted = 0;
  for (let h = 0; h < data.holders.length; h++) {
    // A read runs what fell due (the registry catches up on every request), and lists the holder's scheduled transfers.
    const own = read<{ reference?: string; status: string }[]>(data.tokens[h], '/transactionapi/AH/transactionapi/ScheduledTransactions?$top=500&$skip=0');
    for (const item of own) if (item.reference?.startsWith(`${SOAK.referencePrefix}-${h}-`) && item.status !== 'Completed') notCompleted++;
  }
  unfinished.add(notCompleted);
  const after = admin('GET', '/__admin/state') as RegistryState;
  // The soak's transfers that succeeded, as the mock journaled them (VUs' counters are not readable here).
  const journal = http.get(`${BASE}/__admin/journal`, { tags: { name: 'admin /__admin/journal' } });
  let transfers = 0;
  for (const line of String(journal.body).split('\n')) {
    if (!line) continue;
    const exchange = JSON.parse(line) as { operationId?: string; request: { headers: Record<string, unknown> }; response: { status: number } };
    if (exchange.operationId === 'ahCreateTransfer' && exchange.response.status === 201 && String(exchange.request.headers[REQUEST_ID_HEADER] ?? '').startsWith('soak-')) transfers++;
  }
  const problems = soakVolumeProblems(data.before, after, transfers);
  for (const problem of problems) console.error(problem);
  volumeProblems.add(problems.length);
}
