import { createHash } from 'node:crypto';
import { decision, header, type Observation } from '../observation.js';
import { BoundedMap, Verdict, type Rule } from '../rule.js';

/** The headers the firewall requires (manual 1.3.1), as its rules name them: `header-user-agent` judges `user-agent`. */
const REQUIRED = ['accept', 'host', 'user-agent', 'content-type', 'content-length'];

/** The firewall's 403 is its HTML page (manual 1.3.1 note); a permission 403 is G-REX's JSON envelope. */
function firewallRefused(observation: Observation): boolean {
  if (observation.status !== 403) return false;
  const stage = decision(observation.exchange, 'firewall');
  if (stage) return stage.outcome === 'reject';
  return /html/i.test(String(observation.exchange.response.headers['content-type'] ?? ''));
}

const present = (observation: Observation, name: string): boolean => (header(observation.exchange, name) ?? '').trim() !== '';

/**
 * The headers whose absence the firewall judged: the one its rule names
 * (the mock's journal, or its `x-grex-firewall-rule`); none for a rule on
 * the URL or body, which the resend's key compares; and, where nobody named
 * the rule (G-REX itself, proxied traffic, a HAR), every required header
 * that was missing, since any of them may have been the reason.
 */
function judgedHeaders(observation: Observation): string[] {
  const rule = decision(observation.exchange, 'firewall')?.code ?? observation.exchange.response.headers['x-grex-firewall-rule'];
  if (typeof rule === 'string' && rule) return rule.startsWith('header-') ? [rule.slice('header-'.length)] : [];
  return REQUIRED.filter((name) => !present(observation, name));
}

/**
 * Manual 1.3.1 and the note after Figure 31: input the firewall refused
 * (a missing header, `/`, `https://`, script or SQL in a value) blocks the
 * caller when repeated. The same request sent again after its 403, with what
 * the firewall judged unchanged, is the repetition; a reattempt "with
 * problematic data removed" (the same URL and body, now with the missing
 * header) is what the manual asks for.
 */
export function firewallResend(): Rule {
  const verdict = new Verdict({
    id: 'firewall-resend',
    title: 'No resending of input the firewall refused',
    severity: 'error',
    manualRef: '1.3.1 HTTP standard (firewall violations block); the note after Figure 31 (input the firewall refuses)',
    description: 'A request the firewall answered 403 is not sent again unchanged: the same method, URL and body, still without the header the firewall missed.',
  });
  const refused = new BoundedMap<string, { line: number; headers: string[] }>(100_000);
  return {
    info: verdict.info,
    observe(observation: Observation) {
      if (observation.kind !== 'api') return;
      verdict.checked++;
      const body = observation.exchange.request.body;
      const key = `${observation.exchange.client} ${observation.method} ${observation.path}?${observation.search} ${body ? createHash('sha1').update(body).digest('base64') : ''}`;
      const earlier = refused.get(key);
      if (earlier !== undefined && !earlier.headers.some((name) => present(observation, name))) {
        verdict.fail(observation, `${observation.method} ${observation.path}${observation.search ? `?${observation.search}` : ''} resent unchanged after the firewall refused it at line ${earlier.line}`);
      } else if (firewallRefused(observation)) refused.set(key, { line: observation.line, headers: judgedHeaders(observation) });
    },
    finish: () => verdict.result(),
  };
}
