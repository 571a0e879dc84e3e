import { createHash } from 'node:crypto';
import { decision, type Observation } from '../observation.js';
import { BoundedMap, Verdict, type Rule } from '../rule.js';

/** The firewall's 403 is its HTML page (manual 1.3.1 note); a permission 403 is G-REX's JSON envelope. */
function firewallRefused(observation: Observation): boolean {
  if (observation.status !== 403) return false;
  const stage = decision(observation.exchange, 'firewall');
  if (stage) return stage.outcome === 'reject';
  return /html/i.test(String(observation.exchange.response.headers['content-type'] ?? ''));
}

/**
 * Manual 1.3.1 and the note after Figure 31: input the firewall refused
 * (a missing header, `/`, `https://`, script or SQL in a value) blocks the
 * caller when repeated. The same request sent again after its 403 is the
 * repetition.
 */
export function firewallResend(): Rule {
  const verdict = new Verdict({
    id: 'firewall-resend',
    title: 'No resending of input the firewall refused',
    severity: 'error',
    manualRef: '1.3.1 HTTP standard (firewall violations block); the note after Figure 31 (input the firewall refuses)',
    description: "A request the firewall answered 403 is not sent again unchanged (same method, URL and body).",
  });
  const refused = new BoundedMap<string, number>(100_000);
  return {
    info: verdict.info,
    observe(observation: Observation) {
      if (observation.kind !== 'api') return;
      verdict.checked++;
      const body = observation.exchange.request.body;
      const key = `${observation.exchange.client} ${observation.method} ${observation.path}?${observation.search} ${body ? createHash('sha1').update(body).digest('base64') : ''}`;
      const earlier = refused.get(key);
      if (earlier !== undefined) verdict.fail(observation, `${observation.method} ${observation.path}${observation.search ? `?${observation.search}` : ''} resent after the firewall refused it at line ${earlier}`);
      else if (firewallRefused(observation)) refused.set(key, observation.line);
    },
    finish: () => verdict.result(),
  };
}
