import { header, type Observation } from '../observation.js';
import { Verdict, type Rule } from '../rule.js';

const ALWAYS = ['accept', 'host', 'user-agent'];
const WITH_BODY = ['content-type', 'content-length'];

/**
 * Manual 1.3.1: Accept, Content-Type, Content-Length, Host and User-Agent.
 * Content-Type and Content-Length are asked of requests with a body only: a
 * GET has no content to describe, and the gateway lets such GETs through.
 */
export function requiredHeaders(): Rule {
  const verdict = new Verdict({
    id: 'required-headers',
    title: 'Required HTTP headers',
    severity: 'error',
    manualRef: '1.3.1 HTTP standard; 1.3.3 Use filters and correct headers',
    description: 'Every API request sends Accept, Host and User-Agent; one with a body also Content-Type and Content-Length.',
  });
  return {
    info: verdict.info,
    observe(observation: Observation) {
      if (observation.kind !== 'api') return;
      verdict.checked++;
      const wanted = observation.hasBody ? [...ALWAYS, ...WITH_BODY] : ALWAYS;
      const missing = wanted.filter((name) => !header(observation.exchange, name));
      if (missing.length) verdict.fail(observation, `${observation.method} ${observation.path} without ${missing.join(', ')}`);
    },
    finish: () => verdict.result(),
  };
}
