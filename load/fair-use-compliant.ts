/**
 * Scenario 1: 200 account holders (every active one of the large profile), each sending exactly the minute's
 * allowance (100 requests) per phase, three phases a mock minute apart.
 * Thresholds: not one 429, every request answered 200, and the mock
 * journaled exactly the requests sent.
 *
 *   k6 run -e GREX_URL=http://127.0.0.1:4600 load/fair-use-compliant.ts   (mock started with --profile large)
 */
import { check } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';
import { admin, headers, holderOfVu, pace, phaseScenarios, prepare, recorded, BASE, type Prepared } from './grex.ts';
import { COMPLIANT, readPath, sendAt } from './plan.ts';

const expected = COMPLIANT.holders * COMPLIANT.requests * COMPLIANT.phases;
const journalMismatch = new Counter('journal_mismatch');

export const options: Options = {
  scenarios: phaseScenarios(COMPLIANT.holders, COMPLIANT.requests, COMPLIANT.phases, COMPLIANT.phaseSeconds),
  thresholds: {
    'http_reqs{scenario_kind:load,status:429}': ['count==0'],
    'http_reqs{scenario_kind:load,status:200}': [`count==${expected}`],
    'checks{scenario_kind:load}': ['rate==1'],
    journal_mismatch: ['count==0'],
  },
};

export function setup(): Prepared {
  return prepare(COMPLIANT.holders);
}

export function phase(data: Prepared): void {
  const holder = holderOfVu(COMPLIANT.holders);
  const i = exec.vu.iterationInScenario;
  pace(sendAt(i, COMPLIANT.requests, holder, COMPLIANT.holders, COMPLIANT.phaseSeconds));
  const response = http.get(`${BASE}${readPath(data.holders[holder].role)}`, {
    headers: headers(data.tokens[holder], `compliant-${exec.scenario.name}-${holder}-${i}`),
    tags: { scenario_kind: 'load', name: 'GET Accounts' },
  });
  check(response, { 'compliant holder answered 200': (r) => r.status === 200 }, { scenario_kind: 'load' });
}

export function advance(): void {
  admin('POST', '/__admin/clock', { advance: COMPLIANT.between });
}

export function teardown(data: Prepared): void {
  const journaled = recorded() - data.recorded;
  if (journaled !== expected) {
    console.error(`the mock journaled ${journaled} exchanges, ${expected} requests were planned`);
    journalMismatch.add(1);
  }
}
