import type { Observation } from '../observation.js';
import { RecentTimes, Verdict, type Rule } from '../rule.js';

function hasParameter(search: string, name: string): boolean {
  for (const pair of search.split('&')) {
    const equals = pair.indexOf('=');
    const key = (equals < 0 ? pair : pair.slice(0, equals)).replace(/%24/gi, '$');
    if (key === name) return true;
  }
  return false;
}

/** Manual 1.2.2 and 1.3.3: collections are read with `$top` and `$skip`. */
export function paging(): Rule {
  const verdict = new Verdict({
    id: 'paging',
    title: '$top and $skip on collection reads',
    severity: 'error',
    manualRef: '1.2.2 Request types to avoid; 1.3.3 Use filters and correct headers',
    description: 'Every GET of a collection pages with both $top and $skip.',
  });
  return {
    info: verdict.info,
    observe(observation: Observation) {
      if (!observation.collection) return;
      verdict.checked++;
      const missing = ['$top', '$skip'].filter((name) => !hasParameter(observation.search, name));
      if (missing.length) verdict.fail(observation, `GET ${observation.path} without ${missing.join(' and ')}`);
    },
    finish: () => verdict.result(),
  };
}

/** Reads of the same page that make a poll: more than this many within the window. */
export const POLL_REPEATS = 3;
export const POLL_WINDOW_MS = 10 * 60_000;

/**
 * Manual 1.2.2: large queries are allowed "if the requests are not
 * automatically repeated over short periods of time (polling)". A page read
 * successfully more than three times in ten minutes by one account holder,
 * without a `$filter` that narrows it, is a poll.
 */
export function polling(): Rule {
  const verdict = new Verdict({
    id: 'full-dataset-polling',
    title: 'No repeated full-dataset polling',
    severity: 'warning',
    manualRef: '1.2.2 Request types to avoid',
    description: `The same unfiltered collection page is read successfully at most ${POLL_REPEATS} times in ${POLL_WINDOW_MS / 60_000} minutes per account holder.`,
  });
  const reads = new RecentTimes(50_000, POLL_WINDOW_MS);
  return {
    info: verdict.info,
    observe(observation: Observation) {
      if (!observation.collection || observation.status < 200 || observation.status >= 300) return;
      verdict.checked++;
      if (hasParameter(observation.search, '$filter')) return;
      const key = `${observation.holder} ${observation.path.toLowerCase()}?${observation.search}`;
      const times = reads.add(key, observation.at);
      if (times > POLL_REPEATS) verdict.fail(observation, `GET ${observation.path}?${observation.search} read ${times} times in ${POLL_WINDOW_MS / 60_000} minutes`);
    },
    finish: () => verdict.result(),
  };
}
