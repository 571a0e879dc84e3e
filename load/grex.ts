/**
 * What the k6 scenarios share: the mock's address, its /__admin API (never
 * rate-limited, never journaled), tokens, the G-REX headers, the phase
 * layout, pacing, and the journal count that shows no request was lost or
 * answered twice.
 */
import { fail, sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import type { Options, Scenario } from 'k6/options';
import { FAIR_USE, REQUEST_ID_HEADER, USER_AGENT, pickHolders, readPath, type FixtureUser, type Holder } from './plan.ts';

export const BASE = (__ENV.GREX_URL ?? 'http://127.0.0.1:4600').replace(/\/$/, '');

export function admin(method: 'GET' | 'POST', path: string, body?: unknown): any {
  const response = http.request(method, `${BASE}${path}`, body === undefined ? null : JSON.stringify(body), {
    headers: { 'content-type': 'application/json' },
    tags: { name: `admin ${path}` },
  });
  if (response.status !== 200) fail(`${method} ${path}: ${response.status} ${String(response.body)}`);
  return response.json();
}

export interface Prepared {
  holders: Holder[];
  tokens: string[];
  /** Exchanges the mock had journaled before the scenario's first request. */
  recorded: number;
}

/** Back to the fixtures, the manual's fair-use policy, `count` account holders and a token each. */
export function prepare(count: number, roles?: Holder['role'][]): Prepared {
  admin('POST', '/__admin/reset');
  admin('POST', '/__admin/fairuse', FAIR_USE);
  const users = admin('GET', '/__admin/users') as FixtureUser[];
  const candidates = pickHolders(users, undefined, roles);
  const holders: Holder[] = [];
  const tokens: string[] = [];
  for (const holder of candidates) {
    if (holders.length === count) break;
    const token = (admin('POST', '/__admin/token', { user: holder.username }) as { access_token: string }).access_token;
    // An Inactive organisation's users are refused (401): they hold no account that can be served.
    const probe = http.get(`${BASE}${readPath(holder.role)}`, { headers: headers(token, `probe-${holder.username}`), tags: { name: 'probe' } });
    if (probe.status !== 200) continue;
    holders.push(holder);
    tokens.push(token);
  }
  if (holders.length < count) fail(`${count} account holders needed, the mock has ${holders.length} active ones (start it with --profile large)`);
  admin('POST', '/__admin/clock', { advance: 'PT1M' });
  return { holders, tokens, recorded: recorded() };
}

export const recorded = (): number => (admin('GET', '/__admin/health') as { journal: { recorded: number } }).journal.recorded;

export function headers(token: string, id: string, json = false): Record<string, string> {
  const all: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${token}`, 'user-agent': USER_AGENT, [REQUEST_ID_HEADER]: id };
  if (json) all['content-type'] = 'application/json';
  return all;
}

/** The holder this VU plays: one VU per holder, and the scenarios never overlap, so the pool's ids are 1..holders. */
export function holderOfVu(holders: number): number {
  const holder = exec.vu.idInTest - 1;
  if (holder < 0 || holder >= holders) fail(`VU ${exec.vu.idInTest} has no holder: the scenarios must not overlap`);
  return holder;
}

/** Sleeps until `ms` after the current scenario started (no-op when late: requests of one holder stay in order). */
export function pace(ms: number): void {
  const wait = exec.scenario.startTime + ms - Date.now();
  if (wait > 0) sleep(wait / 1000);
}

const GAP_SECONDS = 6;

/**
 * Phases one after another, each `iterations` per holder (one VU per holder,
 * `exec: 'phase'`), and between two phases a one-shot `exec: 'advance'` that
 * moves the mock's clock. Nothing overlaps (gracefulStop 0), so k6 needs
 * exactly `holders` VUs; a phase cut by its maxDuration shows as missing
 * answers in the thresholds.
 */
export function phaseScenarios(holders: number, iterations: number, phases: number, phaseSeconds: number): Options['scenarios'] {
  const scenarios: Record<string, Scenario> = {};
  const slot = phaseSeconds + GAP_SECONDS;
  for (let phase = 0; phase < phases; phase++) {
    if (phase > 0) {
      scenarios[`clock_${phase}`] = { executor: 'per-vu-iterations', vus: 1, iterations: 1, startTime: `${phase * slot - 3}s`, maxDuration: '2s', gracefulStop: '0s', exec: 'advance' };
    }
    scenarios[`phase_${phase}`] = {
      executor: 'per-vu-iterations',
      vus: holders,
      iterations,
      startTime: `${phase * slot}s`,
      maxDuration: `${phaseSeconds + 2}s`,
      gracefulStop: '0s',
      exec: 'phase',
      tags: { phase: String(phase) },
    };
  }
  return scenarios;
}
