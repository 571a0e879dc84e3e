import { expect, test } from '../support/fixtures.js';
import type { Exchange } from '../support/http.js';
import { contractProblems } from '../support/operations.js';

/**
 * Fair use (manual 1.2): past a limit the registry answers 429 FAIRUSE_001
 * with Retry-After; a caller that keeps going is blocked (FAIRUSE_002). The
 * limit is provoked for one organisation only, through a per-organisation
 * override, so the other suites running beside this one are not limited.
 * Never on DEMO: it would block the account holder.
 */
const CALLER = 'hydro-root';
const LIMIT = 3;

test.describe('fair use', { tag: ['@limits', '@mock'] }, () => {
  test('past the limit: 429 FAIRUSE_001 with Retry-After, then a block with FAIRUSE_002 for a caller that keeps going', async ({ grex }) => {
    const token = await grex.session.token(grex.http, CALLER);
    const own = await grex.http.api('management', 'GET', '/AH/managementapi/Organizations', { token, query: { $top: 1, $skip: 0 } });
    await grex.check('the caller\'s organisation', () => expect(own.response.status).toBe(200));
    const organisationId = own.response.json[0].organizationId as string;
    const settings = await grex.http.admin('POST', '/__admin/fairuse', { enabled: true, overrides: { [organisationId]: [{ requests: LIMIT, windowSeconds: 3600 }] } });
    expect(settings.response.status).toBe(200);

    const send = () => grex.http.api('master-data', 'GET', '/AH/masterdataapi/Countries', { token, query: { $top: 1, $skip: 0 } });
    const expectRefusal = (reply: Exchange, code: string) => {
      expect(reply.response.status).toBe(429);
      expect(reply.response.json?.responseCode).toBe(code);
      expect(contractProblems('master-data', 'ahGetCountries', reply)).toEqual([]);
      expect(Number(reply.response.headers['retry-after']), 'Retry-After in whole seconds').toBeGreaterThan(0);
    };
    const statuses: number[] = [];
    let limited: Exchange | undefined;
    for (let sent = 0; sent <= LIMIT + 1 && !limited; sent++) {
      const reply = await send();
      statuses.push(reply.response.status);
      if (reply.response.status !== 200) limited = reply;
    }
    await grex.check(`past ${LIMIT} requests: 429 FAIRUSE_001 with Retry-After`, () => {
      expect(limited, `statuses before the limit: ${statuses.join(', ')}`).toBeDefined();
      // The organisation read above was the first of the LIMIT requests the window allows.
      expect(statuses, 'the requests within the limit pass, the next is refused').toEqual([...Array(LIMIT - 1).fill(200), 429]);
      expectRefusal(limited as Exchange, 'FAIRUSE_001');
    });

    let blocked: Exchange | undefined;
    for (let sent = 0; sent < 20 && !blocked; sent++) {
      const reply = await send();
      await grex.check(`request ${LIMIT + 2 + sent}, sent while limited: refused`, () => expect(reply.response.status).toBe(429));
      if (reply.response.json?.responseCode === 'FAIRUSE_002') blocked = reply;
    }
    await grex.check('a caller that keeps going while limited is blocked: 429 FAIRUSE_002 with Retry-After', () => {
      expect(blocked, 'a caller that keeps going while limited is blocked').toBeDefined();
      expectRefusal(blocked as Exchange, 'FAIRUSE_002');
    });
    const state = (await grex.http.admin('GET', '/__admin/fairuse')).response.json;
    await grex.check('the mock lists the block', () => expect(JSON.stringify(state.blocks)).toContain(organisationId));
  });
});
