import { createHash } from 'node:crypto';
import type { Observation } from '../observation.js';
import { BoundedMap, Verdict, type Rule } from '../rule.js';

/**
 * Journal times are whole milliseconds and the mock's duration ends as the
 * answer is handed to the socket: a write sent right after the previous
 * answer arrived can look up to this much earlier.
 */
const ANSWER_SLACK_MS = 2;

interface Write {
  at: number;
  end: number;
}

/**
 * Two writes in flight together: their times, arrival to answer, overlap
 * (the journal's start is the arrival, also where the registry takes time
 * over writes: `grex-harness mock --write-latency`). The journal's answer time (start + duration)
 * can only be earlier than the real one, never later, so a client that waits
 * for each answer is never taken for one that does not, as long as the
 * overlap exceeds the journal's grain.
 */
function overlap(a: Write, b: Observation): boolean {
  return b.at + ANSWER_SLACK_MS < a.end && a.at + ANSWER_SLACK_MS < b.end;
}

/**
 * Manual 1.3.2: a write (POST, PUT, PATCH, DELETE) is sent only after the
 * previous write's answer: two writes of one account holder never overlap.
 */
export function writeConfirmation(): Rule {
  const verdict = new Verdict({
    id: 'write-confirmation',
    title: 'Each write waits for the previous answer',
    severity: 'error',
    manualRef: '1.3.2 Break for confirmation',
    description: "No write starts before the account holder's previous write was answered.",
  });
  const last = new BoundedMap<string, Write & { line: number }>(100_000);
  return {
    info: verdict.info,
    observe(observation: Observation) {
      if (observation.kind !== 'api' || !observation.write) return;
      verdict.checked++;
      const previous = last.get(observation.holder);
      // The journal lists exchanges as they end: the overlapping write may be logged before or after this one.
      if (previous && overlap(previous, observation)) verdict.fail(observation, `${observation.method} ${observation.path} sent while the write at line ${previous.line} was not yet answered`);
      if (!previous || observation.end > previous.end) last.set(observation.holder, { at: observation.at, end: observation.end, line: observation.line });
    },
    finish: () => verdict.result(),
  };
}

/** How long an accepted write is remembered: G-REX (as the mock reconstructs it) refuses the same write within ten minutes. */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;

/**
 * Manual 1.1: no "transaction loops (same transaction / or transaction
 * sequences repeatedly posted to the API)". A write identical (method, path,
 * body) to one the registry accepted for the same account holder within ten
 * minutes is a duplicate. A retry of a write that was refused before the
 * registry processed it (401, 429, the firewall's 403) is not.
 */
export function duplicateWrites(): Rule {
  const verdict = new Verdict({
    id: 'duplicate-write',
    title: 'No duplicate writes (transaction loops)',
    severity: 'error',
    manualRef: '1.1 Disclaimer (transaction loops); 1.3.2 Break for confirmation',
    description: `The same write (method, path and body) is not sent again within ${DUPLICATE_WINDOW_MS / 60_000} minutes of an accepted one.`,
  });
  const accepted = new BoundedMap<string, { at: number; line: number }>(200_000);
  return {
    info: verdict.info,
    observe(observation: Observation) {
      if (observation.kind !== 'api' || !observation.write) return;
      verdict.checked++;
      const body = observation.exchange.request.body ?? '';
      const key = `${observation.holder} ${observation.method} ${observation.path.toLowerCase()} ${createHash('sha1').update(body).digest('base64')}`;
      const earlier = accepted.get(key);
      if (earlier && observation.at - earlier.at < DUPLICATE_WINDOW_MS) {
        verdict.fail(observation, `${observation.method} ${observation.path} repeats the write accepted at line ${earlier.line}, ${((observation.at - earlier.at) / 1000).toFixed(1)} s earlier`);
      }
      if (observation.status >= 200 && observation.status < 300) {
        accepted.delete(key);
        accepted.set(key, { at: observation.at, line: observation.line });
      }
    },
    finish: () => verdict.result(),
  };
}
