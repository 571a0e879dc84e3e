import type { ContractChecker } from '../contract-check.js';
import { decision, type Observation } from '../observation.js';
import { Verdict, type Rule } from '../rule.js';

/**
 * Requests as the contracts describe them: a known path and method, the
 * parameters and a body valid against the operation's schema. Where the mock
 * validated the request (its journal says so) its verdict is taken, which
 * costs nothing; otherwise (refused earlier, or proxied traffic) the
 * contracts check it.
 */
export function requestContract(checker: ContractChecker): Rule {
  const verdict = new Verdict({
    id: 'request-contract',
    title: 'Requests valid against the contracts',
    severity: 'error',
    manualRef: '1.3.1 HTTP standard; the API documentation (swagger.json) of each API',
    description: 'Every API request matches an operation, and its parameters, media type and body are valid against that operation in the contracts.',
  });
  return {
    info: verdict.info,
    observe(observation: Observation) {
      if (observation.kind !== 'api') return;
      verdict.checked++;
      const exchange = observation.exchange;
      const route = decision(exchange, 'route');
      const validated = decision(exchange, 'validate');
      let problems: string[];
      if (route?.outcome === 'reject') problems = [`${route.code ?? 'route'}: no such operation`];
      else if (validated) problems = validated.outcome === 'reject' ? [`${validated.code ?? 'invalid'}: ${validated.detail ?? 'refused by validation'}`] : [];
      else problems = checker.checkRequest(exchange);
      if (problems.length) verdict.fail(observation, `${observation.method} ${observation.path}: ${problems.join('; ')}`);
    },
    finish: () => verdict.result(),
  };
}
