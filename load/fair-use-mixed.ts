/**
 * Scenario 2: 200 account holders (every active one of the large profile), one in five sending 120 requests a minute
 * (20 past the limit), the others exactly 100; two phases, the clock moved
 * past the violators' block between them. Thresholds: compliant holders get
 * no 429; each violator gets 200 up to request 100, 429 FAIRUSE_001 from
 * request 101, and, continuing, its block (429 FAIRUSE_002) from request
 * 100 + blockAfter + 1; totals add up; the mock journaled exactly what was sent.
 *
 *   k6 run -e GREX_URL=http://127.0.0.1:4600 load/fair-use-mixed.ts   (mock started with --profile large)
 */
import { check } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';
import { admin, headers, holderOfVu, pace, phaseScenarios, prepare, recorded, BASE, type Prepared } from './grex.ts';
import { MIXED, expectedAnswer, isViolator, mixedTotals, readPath, sendAt } from './plan.ts';

const totals = mixedTotals();
const planned = totals.compliant.ok + totals.violators.ok + totals.violators.limited + totals.violators.blocked;
const answers = new Counter('answers');
const unexpected = new Counter('fairuse_unexpected');
const journalMismatch = new Counter('journal_mismatch');

export const options: Options = {
  scenarios: phaseScenarios(MIXED.holders, MIXED.violatorRequests, MIXED.phases, MIXED.phaseSeconds),
  thresholds: {
    fairuse_unexpected: ['count==0'],
    'http_reqs{kind:compliant,status:429}': ['count==0'],
    'answers{kind:compliant,code:OK}': [`count==${totals.compliant.ok}`],
    'answers{kind:violator,code:OK}': [`count==${totals.violators.ok}`],
    'answers{kind:violator,code:FAIRUSE_001}': [`count==${totals.violators.limited}`],
    'answers{kind:violator,code:FAIRUSE_002}': [`count==${totals.violators.blocked}`],
    journal_mismatch: ['count==0'],
  },
};

export function setup(): Prepared {
  return prepare(MIXED.holders);
}

export function phase(data: Prepared): void {
  const holder = holderOfVu(MIXED.holders);
  const kind = isViolator(holder) ? 'violator' : 'compliant';
  const requests = kind === 'violator' ? MIXED.violatorRequests : MIXED.compliantRequests;
  const i = exec.vu.iterationInScenario;
  if (i >= requests) return;
  pace(sendAt(i, requests, holder, MIXED.holders, MIXED.phaseSeconds));
  const response = http.get(`${BASE}${readPath(data.holders[holder].role)}`, {
    headers: headers(data.tokens[holder], `mixed-${exec.scenario.name}-${holder}-${i}`),
    tags: { kind, name: 'GET Accounts' },
  });
  // A 429 is the manual's JSON envelope; anything else (a firewall page, a 500) is simply unexpected.
  const code = response.status === 200 ? 'OK' : response.status === 429 ? String((response.json() as { responseCode?: string }).responseCode) : `HTTP ${response.status}`;
  answers.add(1, { kind, code });
  const want = expectedAnswer(i + 1);
  const ok = check(response, { [`${kind}: request n answered as the policy says`]: (r) => r.status === want.status && (want.code === undefined || code === want.code) });
  if (!ok) unexpected.add(1, { kind });
}

export function advance(): void {
  admin('POST', '/__admin/clock', { advance: MIXED.between });
}

export function teardown(data: Prepared): void {
  const journaled = recorded() - data.recorded;
  if (journaled !== planned) {
    console.error(`the mock journaled ${journaled} exchanges, ${planned} requests were planned`);
    journalMismatch.add(1);
  }
}
