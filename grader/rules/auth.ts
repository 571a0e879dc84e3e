import type { Observation } from '../observation.js';
import { BoundedMap, RecentTimes, Verdict, type Rule } from '../rule.js';

/**
 * Manual chapter 6 (and 3): a client signs in with the authorization code
 * flow and PKCE, S256, then lives on refresh tokens. The implicit flow
 * (tokens in the authorize answer) and ROPC (the password sent to the token
 * endpoint) bypass MFA and are refused by G-REX's policy.
 */
export function pkce(): Rule {
  const verdict = new Verdict({
    id: 'pkce-s256',
    title: 'Sign-in with PKCE S256, never implicit or ROPC',
    severity: 'error',
    manualRef: '6.1 How to get the access token and refresh token; 3 Retrieving access tokens via the PKCE flow',
    description: 'Authorize asks response_type=code with a code_challenge and code_challenge_method=S256; the token endpoint sees only authorization_code (with code_verifier) and refresh_token grants.',
  });
  return {
    info: verdict.info,
    observe(observation: Observation) {
      if (observation.kind === 'authorize') {
        verdict.checked++;
        const query = new URLSearchParams(observation.search);
        const types = (query.get('response_type') ?? '').split(/\s+/).filter(Boolean);
        const problems: string[] = [];
        if (types.includes('token') || types.includes('id_token')) problems.push(`implicit flow (response_type=${types.join(' ')})`);
        else if (types.join(' ') !== 'code') problems.push(`response_type=${types.join(' ') || '(none)'}, not code`);
        if (!query.get('code_challenge')) problems.push('no code_challenge');
        const method = query.get('code_challenge_method');
        if (method !== 'S256') problems.push(`code_challenge_method=${method ?? '(none, i.e. plain)'}, not S256`);
        if (problems.length) verdict.fail(observation, `authorize: ${problems.join('; ')}`);
      } else if (observation.kind === 'token' && observation.method === 'POST') {
        verdict.checked++;
        const form = new URLSearchParams(observation.exchange.request.body ?? '');
        const grant = form.get('grant_type');
        if (grant === 'password') verdict.fail(observation, 'token: grant_type=password (ROPC: the password sent to the token endpoint)');
        else if (grant === 'authorization_code' && !form.get('code_verifier')) verdict.fail(observation, 'token: authorization_code without code_verifier');
        else if (grant !== 'authorization_code' && grant !== 'refresh_token') verdict.fail(observation, `token: grant_type=${grant ?? '(none)'}`);
      }
    },
    finish: () => verdict.result(),
  };
}

export const SIGN_IN_LIMIT = 5;
export const SIGN_IN_WINDOW_MS = 10 * 60_000;

/**
 * Manual 3.2 and 6.3: an access token is used until it expires (B2C's last
 * an hour) and then refreshed. Going to the token endpoint more than five
 * times in ten minutes from one client (and client id) is a sign-in loop.
 */
export function signInLoop(): Rule {
  const verdict = new Verdict({
    id: 'sign-in-loop',
    title: 'No sign-in or refresh loops',
    severity: 'error',
    manualRef: '3.2 Obtaining Access Tokens using a valid Refresh Token; 6.3 How to get a new access, and refresh, token',
    description: `At most ${SIGN_IN_LIMIT} token requests (sign-ins and refreshes) in ${SIGN_IN_WINDOW_MS / 60_000} minutes per client: tokens are reused until they expire.`,
  });
  const grants = new RecentTimes(10_000, SIGN_IN_WINDOW_MS);
  return {
    info: verdict.info,
    observe(observation: Observation) {
      if (observation.kind !== 'token' || observation.method !== 'POST') return;
      verdict.checked++;
      const clientId = new URLSearchParams(observation.exchange.request.body ?? '').get('client_id') ?? '';
      const key = `${observation.exchange.client} ${clientId}`;
      const requests = grants.add(key, observation.at);
      if (requests > SIGN_IN_LIMIT) verdict.fail(observation, `token request ${requests} in ${SIGN_IN_WINDOW_MS / 60_000} minutes from ${key.trim()}`);
    },
    finish: () => verdict.result(),
  };
}

/**
 * Manual 6.2: an invalid or expired token gets 401. Sending a token again
 * after it expired, or after G-REX refused it, is a client that does not
 * look at its answers; the first such use is how a client learns, and passes.
 *
 * A token's `exp` is on its issuer's clock, the journal's times on the
 * journal's: the same for the mock's own journal, but not for the proxy's
 * (its machine's clock, while a stand-in mock's tokens carry the mock's,
 * which starts at the fixtures' epoch) nor for a HAR a browser saved. The
 * journal's `Date` answers would not tie them either: the mock's Date is the
 * machine's, not its own clock. So the tokens tie the clocks themselves: no
 * token is used before it is issued, so for every use `iat - at` is at most
 * how far the issuer's clock runs ahead of the journal's, and the largest
 * seen is the closest such bound (within the seconds between a token's issue
 * and its first use). A use counts as past `exp` only by that bound, which
 * can judge a token expired later than it was, never earlier: a client that
 * refreshes in time is never failed, whichever clock either side runs on,
 * for DEMO (B2C's clock) and a mock (its own) alike.
 */
export function expiredTokenReuse(): Rule {
  const verdict = new Verdict({
    id: 'expired-token-reuse',
    title: 'No reuse of an expired or refused token',
    severity: 'error',
    manualRef: '6.2 How to get data from the API; 3.2 Obtaining Access Tokens using a valid Refresh Token',
    description: "A bearer token is not sent again once it has expired (its exp, on the issuer's clock, which the tokens' iat tie to the journal's) or was answered 401.",
  });
  const dead = new BoundedMap<string, { line: number; why: string }>(100_000);
  /** How far the tokens' clock runs ahead of the journal's, at least (ms); unknown until a token says when it was issued. */
  let issuerAhead = Number.NEGATIVE_INFINITY;
  return {
    info: verdict.info,
    observe(observation: Observation) {
      const token = observation.token;
      if (observation.kind !== 'api' || !token) return;
      verdict.checked++;
      if (token.iat !== undefined && token.iat - observation.at > issuerAhead) issuerAhead = token.iat - observation.at;
      const issuerNow = observation.at + (issuerAhead === Number.NEGATIVE_INFINITY ? 0 : issuerAhead);
      const known = dead.get(token.key);
      if (known) verdict.fail(observation, `${observation.method} ${observation.path} with a token that ${known.why} at line ${known.line}`);
      else if (token.exp !== undefined && issuerNow >= token.exp) dead.set(token.key, { line: observation.line, why: 'had expired' });
      else if (observation.status === 401) dead.set(token.key, { line: observation.line, why: 'was refused (401)' });
    },
    finish: () => verdict.result(),
  };
}

/**
 * Manual 6.2 and 6.3: a 401 is answered by one refresh and one retry. More
 * refreshes for one 401, or retrying a request whose retry was refused too,
 * is a loop.
 */
export function unauthorizedRetry(): Rule {
  const verdict = new Verdict({
    id: 'unauthorized-retry',
    title: '401 handled by one refresh and one retry',
    severity: 'error',
    manualRef: '6.2 How to get data from the API; 6.3 How to get a new access, and refresh, token',
    description: 'After a 401 the client refreshes at most once before its next API request, and retries the refused request at most once.',
  });
  const pending = new BoundedMap<string, { line: number; refreshes: number }>(10_000);
  const refusals = new BoundedMap<string, number>(10_000);
  return {
    info: verdict.info,
    observe(observation: Observation) {
      const client = observation.exchange.client;
      if (observation.kind === 'token' && observation.method === 'POST') {
        const after = pending.get(client);
        if (!after) return;
        after.refreshes++;
        if (after.refreshes > 1) verdict.fail(observation, `refresh ${after.refreshes} after the 401 at line ${after.line}`);
        return;
      }
      if (observation.kind !== 'api') return;
      verdict.checked++;
      const key = `${client} ${observation.method} ${observation.path}?${observation.search}`;
      const refused = refusals.get(key) ?? 0;
      if (refused >= 2) verdict.fail(observation, `${observation.method} ${observation.path} sent again after ${refused} 401s in a row`);
      if (observation.status === 401) {
        refusals.set(key, refused + 1);
        pending.set(client, { line: observation.line, refreshes: 0 });
      } else {
        refusals.delete(key);
        pending.delete(client);
      }
    },
    finish: () => verdict.result(),
  };
}
