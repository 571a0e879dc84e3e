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
  /** First and last request on the journal's clock. */
  from?: string;
  to?: string;
  /** Every error-severity rule passed. */
  passed: boolean;
  rules: RuleResult[];
  rates: RateSeries;
}

/** Grades a journal in one streamed pass: each exchange is parsed once and shown to every rule; against the contracts the mock served (default: the reconstructed ones). */
export async function gradeJournal(journal: string, contracts: ContractSet = loadContracts()): Promise<GradeReport> {
  const observer = new Observer(contracts.contracts);
  const rules = createRules(createContractChecker(contracts));
  const rates = new RateCounter();
  let graded = 0;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  const exchanges = await readJournal(journal, (exchange, line) => {
    const observation = observer.observe(exchange, line);
    if (!observation) return;
    graded++;
    if (observation.at < from) from = observation.at;
    if (observation.at > to) to = observation.at;
    rates.observe(observation);
    for (const rule of rules) rule.observe(observation);
  });
  const results = rules.map((rule) => rule.finish());
  return {
    journal,
    exchanges,
    graded,
    ...(graded ? { from: new Date(from).toISOString(), to: new Date(to).toISOString() } : {}),
    passed: results.every((result) => result.passed || result.severity !== 'error'),
    rules: results,
    rates: rates.series(),
  };
}
