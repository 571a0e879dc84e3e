import { loadContracts, type ContractSet } from '../contracts/lib/load.js';
import { createContractChecker } from './contract-check.js';
import { readJournal } from './journal-reader.js';
import { Observer } from './observation.js';
import { RateCounter, type RateSeries } from './rates.js';
import type { RuleResult } from './rule.js';
import { createRules } from './rules/index.js';

export interface GradeReport {
  journal: string;
  /** Lines (or HAR entries) read. */
  exchanges: number;
  /** Exchanges with the six APIs and B2C: what the rules looked at. */
  graded: number;
  /** Requests to the six APIs among them. */
  apiRequests: number;
  /** API requests answered other than 401: the client's token was taken (or the operation is public). */
  authenticatedRequests: number;
  /** First and last request on the journal's clock. */
  from?: string;
  to?: string;
  /** Every error-severity rule passed, and there was API traffic to judge. */
  passed: boolean;
  /** Why the journal fails besides its rules: it has no API request, or none got past authentication (`NO_API_TRAFFIC`). */
  reason?: string;
  rules: RuleResult[];
  rates: RateSeries;
}

/**
 * A client is certified on what it sent to the six APIs: with none (it ran
 * against another host, or never got past sign-in) every rule passes for
 * want of anything to check, which would certify nothing. Nor does a client
 * whose every API request was answered 401 (a token of another tenant or
 * registry, or none): the rules saw only refusals. The check's id names it
 * in the JUnit and Allure reports.
 */
export const NO_API_TRAFFIC = {
  id: 'api-traffic',
  title: 'The client sent API requests to grade',
  manualRef: '2.2.1 Importing the G-REX Environment (the base URIs of the six APIs)',
  reason: 'no request reached the six G-REX APIs, so there was nothing to grade (a client pointed at another host, or stopped at sign-in, sends none)',
  unauthenticated: (requests: number): string =>
    `every request to the six G-REX APIs (${requests}) was answered 401, so nothing past authentication was graded (a token of another B2C tenant or registry, or none, is refused so)`,
};

/** Grades a journal in one streamed pass: each exchange is parsed once and shown to every rule; against the contracts the mock served (default: the reconstructed ones). */
export async function gradeJournal(journal: string, contracts: ContractSet = loadContracts()): Promise<GradeReport> {
  const observer = new Observer(contracts.contracts);
  const rules = createRules(createContractChecker(contracts));
  const rates = new RateCounter();
  let graded = 0;
  let apiRequests = 0;
  let authenticatedRequests = 0;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  const exchanges = await readJournal(journal, (exchange, line) => {
    const observation = observer.observe(exchange, line);
    if (!observation) return;
    graded++;
    if (observation.kind === 'api') {
      apiRequests++;
      if (observation.status !== 401) authenticatedRequests++;
    }
    if (observation.at < from) from = observation.at;
    if (observation.at > to) to = observation.at;
    rates.observe(observation);
    for (const rule of rules) rule.observe(observation);
  });
  const results = rules.map((rule) => rule.finish());
  const reason = apiRequests === 0 ? NO_API_TRAFFIC.reason : authenticatedRequests === 0 ? NO_API_TRAFFIC.unauthenticated(apiRequests) : undefined;
  return {
    journal,
    exchanges,
    graded,
    apiRequests,
    authenticatedRequests,
    ...(graded ? { from: new Date(from).toISOString(), to: new Date(to).toISOString() } : {}),
    passed: reason === undefined && results.every((result) => result.passed || result.severity !== 'error'),
    ...(reason ? { reason } : {}),
    rules: results,
    rates: rates.series(),
  };
}
