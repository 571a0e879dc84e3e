import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_FAIR_USE, type FairUseConfig } from '../mock/fairuse.js';
import { startMock, type RunningMock } from '../mock/server.js';

/**
 * The fair-use policy (manual 1.2, DOMAIN.md 5): 100 requests a minute and 500
 * an hour per account holder, sliding windows on the mock's clock, 429 with
 * Retry-After, and a block for callers that keep going. Everything over HTTP;
 * the mock's clock is moved with /__admin/clock (it also runs with wall time,
 * so Retry-After is asserted exactly only where time was frozen by advancing).
 */

const MASTER_DATA = '/masterdataapi/AH/masterdataapi/Technologies?$top=1';
const PUBLIC_REPORTS = '/publicreportsapi/publicreportsapi/AuctionResults?$top=1';

interface Reply {
  status: number;
  retryAfter: number | null;
  code: string | undefined;
  message: string | undefined;
}

interface Mock {
  url: string;
  running: RunningMock;
  token(user: string): Promise<string>;
  /** A G-REX call, with a token or anonymously. */
  call(path: string, token?: string): Promise<Reply>;
  admin(method: string, path: string, body?: unknown): Promise<any>;
  advance(duration: string): Promise<void>;
  /** The mock's clock, ms. */
  clock(): Promise<number>;
  close(): Promise<void>;
}

async function mockWith(fairUse: Partial<FairUseConfig> = {}): Promise<Mock> {
  const running = await startMock({ port: 0, host: '127.0.0.1', fairUse: { ...DEFAULT_FAIR_USE, ...fairUse } });
  const url = running.url;
  const admin = async (method: string, path: string, body?: unknown): Promise<any> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    assert.equal(response.status, 200, `${method} ${path}: ${text}`);
    return text && response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text;
  };
  return {
    url,
    running,
    // A day's lifetime: tests move the clock by hours.
    token: async (user) => (await admin('POST', '/__admin/token', { user, lifetimeSeconds: 86_400 })).access_token,
    call: async (path, token) => {
      const response = await fetch(`${url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      const text = await response.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const retry = response.headers.get('retry-after');
      return { status: response.status, retryAfter: retry === null ? null : Number(retry), code: json?.responseCode, message: json?.responseMessage };
    },
    admin,
    advance: async (duration) => void (await admin('POST', '/__admin/clock', { advance: duration })),
    clock: async () => Date.parse((await admin('GET', '/__admin/clock')).now),
    close: () => running.close(),
  };
}

async function using(fairUse: Partial<FairUseConfig>, body: (mock: Mock) => Promise<void>): Promise<void> {
  const mock = await mockWith(fairUse);
  try {
    await body(mock);
  } finally {
    await mock.close();
  }
}

/** `count` calls in sequence; the statuses. */
async function burst(mock: Mock, count: number, path: string, token?: string): Promise<Reply[]> {
  const replies: Reply[] = [];
  for (let i = 0; i < count; i++) replies.push(await mock.call(path, token));
  return replies;
}

const passed = (replies: Reply[]): number => replies.filter((reply) => reply.status === 200).length;

function assertRefused(reply: Reply, code: 'FAIRUSE_001' | 'FAIRUSE_002', retryAfter?: number | [number, number]): void {
  assert.equal(reply.status, 429, JSON.stringify(reply));
  assert.equal(reply.code, code, JSON.stringify(reply));
  assert.ok(reply.retryAfter !== null && Number.isInteger(reply.retryAfter) && reply.retryAfter >= 1, `Retry-After ${reply.retryAfter}`);
  if (typeof retryAfter === 'number') assert.equal(reply.retryAfter, retryAfter, JSON.stringify(reply));
  else if (retryAfter) assert.ok(reply.retryAfter >= retryAfter[0] && reply.retryAfter <= retryAfter[1], `Retry-After ${reply.retryAfter} not in [${retryAfter}]`);
  assert.match(reply.message ?? '', new RegExp(`Retry after ${reply.retryAfter} seconds`));
}

/** The organisation id the mock counts a user under: the journal records it on an authenticated call. */
async function organisationOf(mock: Mock, user: string): Promise<string> {
  assert.equal((await mock.call(MASTER_DATA, await mock.token(user))).status, 200);
  const lines = String(await mock.admin('GET', '/__admin/journal?limit=1')).trim().split('\n');
  const entry = JSON.parse(lines[lines.length - 1]);
  assert.equal(entry.user, user);
  const decision = entry.decisions.find((d: { stage: string }) => d.stage === 'fairuse');
  assert.equal(decision?.detail, entry.organization, 'fair use counts the organisation');
  return entry.organization;
}

describe('fair use with the manual limits (100 a minute, 500 an hour)', () => {
  it('the 100th request in a minute passes, the 101st gets 429 FAIRUSE_001 with Retry-After', () =>
    using({}, async (mock) => {
      const token = await mock.token('eolien-trader');
      const start = await mock.clock();
      const replies = await burst(mock, 100, MASTER_DATA, token);
      assert.deepEqual(replies.map((reply) => reply.status), Array(100).fill(200));
      const refused = await mock.call(MASTER_DATA, token);
      const elapsed = (await mock.clock()) - start;
      // The first request leaves the minute at start + 60 s (wall time ran while the burst was sent).
      assertRefused(refused, 'FAIRUSE_001', [Math.ceil((60_000 - elapsed) / 1000), 60]);
      assert.match(refused.message ?? '', /limit of 100 requests per minute/);
      await mock.advance(`PT${refused.retryAfter}S`);
      assert.equal((await mock.call(MASTER_DATA, token)).status, 200, 'waiting Retry-After passes');
    }));

  it('the 501st request in an hour gets 429, the minute limit held by advancing the clock', () =>
    using({}, async (mock) => {
      const token = await mock.token('eolien-trader');
      const start = await mock.clock();
      for (let minute = 0; minute < 5; minute++) {
        const replies = await burst(mock, 100, MASTER_DATA, token);
        assert.equal(passed(replies), 100, `minute ${minute}`);
        await mock.advance('PT60S');
      }
      const before = await mock.clock();
      assert.ok(before - start >= 300_000);
      const refused = await mock.call(MASTER_DATA, token);
      const after = await mock.clock();
      // The first request (after start, and five advances of 60 s before `before`) leaves the hour at its time + 3600 s.
      assertRefused(refused, 'FAIRUSE_001', [Math.ceil((start + 3_600_000 - after) / 1000), 3300]);
      assert.match(refused.message ?? '', /limit of 500 requests per hour/);
      assert.ok(refused.retryAfter! > 3000, 'the hour, not the minute, binds');
      // Two seconds short (wall time cannot close a whole second): still limited, by a second or two.
      await mock.advance(`PT${refused.retryAfter! - 2}S`);
      const early = await mock.call(MASTER_DATA, token);
      assertRefused(early, 'FAIRUSE_001', [1, 2]);
      await mock.advance(`PT${early.retryAfter}S`);
      assert.equal((await mock.call(MASTER_DATA, token)).status, 200, 'waiting Retry-After passes');
    }));
});

describe('Retry-After, to the second on the mock clock', () => {
  it('is when the oldest counted request leaves the window: waiting that long passes, a second less does not', () =>
    using({ limits: [{ requests: 3, windowSeconds: 60 }] }, async (mock) => {
      const token = await mock.token('eolien-trader');
      assert.equal((await mock.call(MASTER_DATA, token)).status, 200); // t0
      await mock.advance('PT10S');
      assert.equal((await mock.call(MASTER_DATA, token)).status, 200); // t0 + 10
      await mock.advance('PT10S');
      assert.equal((await mock.call(MASTER_DATA, token)).status, 200); // t0 + 20
      await mock.advance('PT5S');
      const refused = await mock.call(MASTER_DATA, token); // t0 + 25
      assertRefused(refused, 'FAIRUSE_001', 35);
      assert.match(refused.message ?? '', /limit of 3 requests per minute/);
      await mock.advance('PT34S');
      assertRefused(await mock.call(MASTER_DATA, token), 'FAIRUSE_001', 1); // t0 + 59
      await mock.advance('PT1S');
      assert.equal((await mock.call(MASTER_DATA, token)).status, 200, 't0 + 60: the t0 request left'); // counts at t0 + 60
      // Sliding: the next slot is the t0 + 10 request's, at t0 + 70.
      assertRefused(await mock.call(MASTER_DATA, token), 'FAIRUSE_001', 10);
    }));

  it('refused requests do not count against the window', () =>
    using({ limits: [{ requests: 2, windowSeconds: 60 }], blockAfter: 100 }, async (mock) => {
      const token = await mock.token('eolien-trader');
      assert.equal(passed(await burst(mock, 2, MASTER_DATA, token)), 2);
      for (let second = 10; second < 60; second += 10) {
        await mock.advance('PT10S');
        assertRefused(await mock.call(MASTER_DATA, token), 'FAIRUSE_001', 60 - second);
      }
      await mock.advance('PT10S');
      assert.equal(passed(await burst(mock, 3, MASTER_DATA, token)), 2, 'a fresh minute: two pass again');
    }));

  it('with several limits reached, Retry-After waits for the last of them and names it', () =>
    using({ limits: [{ requests: 2, windowSeconds: 10 }, { requests: 3, windowSeconds: 60 }] }, async (mock) => {
      const token = await mock.token('eolien-trader');
      assert.equal((await mock.call(MASTER_DATA, token)).status, 200); // t0
      await mock.advance('PT11S');
      assert.equal(passed(await burst(mock, 2, MASTER_DATA, token)), 2); // t0 + 11, twice
      const refused = await mock.call(MASTER_DATA, token);
      // 2 per 10 s frees at t0 + 21, 3 per minute at t0 + 60.
      assertRefused(refused, 'FAIRUSE_001', 49);
      assert.match(refused.message ?? '', /limit of 3 requests per minute/);
      await mock.advance('PT48S');
      assertRefused(await mock.call(MASTER_DATA, token), 'FAIRUSE_001', 1);
      await mock.advance('PT1S');
      assert.equal((await mock.call(MASTER_DATA, token)).status, 200);
    }));
});

describe('blocking callers that keep going', () => {
  const config = { limits: [{ requests: 2, windowSeconds: 60 }], blockAfter: 3, blockSeconds: 30 };

  it('blocks after blockAfter refusals while limited, FAIRUSE_002 meanwhile, and starts fresh after blockSeconds', () =>
    using(config, async (mock) => {
      const token = await mock.token('eolien-trader');
      const organisation = await organisationOf(mock, 'eolien-trader'); // the first of two
      assert.equal((await mock.call(MASTER_DATA, token)).status, 200);
      assertRefused(await mock.call(MASTER_DATA, token), 'FAIRUSE_001', [59, 60]); // limited
      for (let i = 0; i < 2; i++) assertRefused(await mock.call(MASTER_DATA, token), 'FAIRUSE_001', [59, 60]); // more while limited
      assertRefused(await mock.call(MASTER_DATA, token), 'FAIRUSE_002', 30); // the blockAfter-th: the block starts with it
      assert.deepEqual(mock.running.app.fairUse.blocks().map((block) => block.caller), [organisation]);
      const blocked = await mock.call(MASTER_DATA, token);
      assertRefused(blocked, 'FAIRUSE_002', 30);
      assert.match(blocked.message ?? '', /temporarily blocked/);
      const listed = await mock.admin('GET', '/__admin/fairuse').catch(() => undefined);
      if (listed?.blocks) assert.deepEqual(listed.blocks.map((block: { caller: string }) => block.caller), [organisation]);
      await mock.advance('PT10S');
      assertRefused(await mock.call(MASTER_DATA, token), 'FAIRUSE_002', 20);
      await mock.advance('PT19S');
      assertRefused(await mock.call(MASTER_DATA, token), 'FAIRUSE_002', 1);
      await mock.advance('PT1S');
      // 30 s after the block began, inside the minute of the two counted requests: a fresh start.
      const replies = await burst(mock, 3, MASTER_DATA, token);
      assert.deepEqual(replies.map((reply) => reply.status), [200, 200, 429]);
      assertRefused(replies[2], 'FAIRUSE_001', 60);
      assert.deepEqual(mock.running.app.fairUse.blocks(), []);
    }));

  it('blockAfter - 1 refusals and then waiting as told do not block', () =>
    using(config, async (mock) => {
      const token = await mock.token('eolien-trader');
      assert.equal(passed(await burst(mock, 2, MASTER_DATA, token)), 2);
      const replies = await burst(mock, 3, MASTER_DATA, token); // limited, then two more
      for (const reply of replies) assertRefused(reply, 'FAIRUSE_001');
      await mock.advance(`PT${replies[2].retryAfter}S`);
      assert.equal((await mock.call(MASTER_DATA, token)).status, 200);
      assert.deepEqual(mock.running.app.fairUse.blocks(), []);
    }));

  it('POST /__admin/reset lifts blocks', () =>
    using(config, async (mock) => {
      const token = await mock.token('eolien-trader');
      const replies = await burst(mock, 7, MASTER_DATA, token);
      assert.deepEqual(replies.map((reply) => reply.code ?? reply.status), [200, 200, 'FAIRUSE_001', 'FAIRUSE_001', 'FAIRUSE_001', 'FAIRUSE_002', 'FAIRUSE_002']);
      assert.equal(mock.running.app.fairUse.blocks().length, 1);
      await mock.admin('POST', '/__admin/reset');
      assert.deepEqual(mock.running.app.fairUse.blocks(), []);
      assert.equal(passed(await burst(mock, 2, MASTER_DATA, token)), 2, 'unblocked, with a fresh budget');
    }));

  it('a client that honours Retry-After is never blocked, over many simulated minutes', () =>
    // blockAfter 1: a single request sent before its Retry-After would block.
    using({ limits: [{ requests: 5, windowSeconds: 60 }, { requests: 20, windowSeconds: 600 }], blockAfter: 1, blockSeconds: 3600 }, async (mock) => {
      const token = await mock.token('eolien-trader');
      const start = await mock.clock();
      let ok = 0;
      let waits = 0;
      let honoured = false;
      while (ok < 100) {
        const reply = await mock.call(MASTER_DATA, token);
        if (honoured) assert.equal(reply.status, 200, 'the request after waiting Retry-After passes');
        honoured = false;
        if (reply.status === 200) {
          ok++;
          continue;
        }
        assertRefused(reply, 'FAIRUSE_001');
        waits++;
        await mock.advance(`PT${reply.retryAfter}S`);
        honoured = true;
      }
      const minutes = ((await mock.clock()) - start) / 60_000;
      assert.deepEqual(mock.running.app.fairUse.blocks(), []);
      assert.ok(waits >= 9, `${waits} waits`);
      // 100 requests at 20 per 10 minutes: the fifth batch of 20 starts 40 minutes in.
      assert.ok(minutes >= 40 && minutes < 50, `${minutes.toFixed(1)} simulated minutes`);
    }));
});

describe('who is counted', () => {
  it('two account holders never share a budget', () =>
    using({ limits: [{ requests: 3, windowSeconds: 60 }], blockAfter: 2, blockSeconds: 600 }, async (mock) => {
      const eolien = await mock.token('eolien-trader');
      const volta = await mock.token('volta-trader');
      assert.equal(passed(await burst(mock, 10, MASTER_DATA, eolien)), 3);
      assertRefused(await mock.call(MASTER_DATA, eolien), 'FAIRUSE_002'); // blocked by now
      assert.equal(passed(await burst(mock, 4, MASTER_DATA, volta)), 3, 'volta has its own three');
      const soleil = await mock.token('soleil-trader');
      const hydro = await mock.token('hydro-trader');
      // Interleaved: each organisation gets exactly its own budget.
      const replies = await Promise.all([soleil, hydro, soleil, hydro, soleil, hydro, soleil, hydro].map((token) => mock.call(MASTER_DATA, token)));
      assert.deepEqual(replies.map((reply) => reply.status).sort(), [200, 200, 200, 200, 200, 200, 429, 429]);
      assert.equal(passed(await burst(mock, 3, PUBLIC_REPORTS)), 3, 'the anonymous address has its own budget too');
    }));

  it('anonymous callers are counted by address, with an invalid token too', () =>
    using({ limits: [{ requests: 3, windowSeconds: 60 }] }, async (mock) => {
      assert.equal(passed(await burst(mock, 3, PUBLIC_REPORTS)), 3);
      const refused = await mock.call(PUBLIC_REPORTS);
      assertRefused(refused, 'FAIRUSE_001', [59, 60]);
      // No valid token: the same address's budget (429 before the 401 auth would give).
      assertRefused(await mock.call(MASTER_DATA, 'not-a-token'), 'FAIRUSE_001');
      assertRefused(await mock.call(PUBLIC_REPORTS, 'not-a-token'), 'FAIRUSE_001');
      // An account holder on the same address is not.
      const token = await mock.token('eolien-trader');
      assert.equal((await mock.call(PUBLIC_REPORTS, token)).status, 200);
      assert.equal((await mock.call(MASTER_DATA, token)).status, 200);
      const journal = String(await mock.admin('GET', '/__admin/journal?limit=1')).trim().split('\n');
      assert.notEqual(JSON.parse(journal[0]).decisions.find((d: { stage: string }) => d.stage === 'fairuse').detail, 'ip:127.0.0.1');
    }));

  it('per-organisation overrides replace the limits for that organisation (and for an address)', async () => {
    const probe = await mockWith();
    let eolienId: string;
    try {
      eolienId = await organisationOf(probe, 'eolien-trader');
    } finally {
      await probe.close();
    }
    const overrides = { [eolienId]: [{ requests: 5, windowSeconds: 60 }], 'ip:127.0.0.1': [{ requests: 1, windowSeconds: 30 }] };
    await using({ limits: [{ requests: 2, windowSeconds: 60 }], overrides }, async (mock) => {
      const eolien = await mock.token('eolien-trader');
      const volta = await mock.token('volta-trader');
      const replies = await burst(mock, 6, MASTER_DATA, eolien);
      assert.equal(passed(replies), 5, 'eolien: its override');
      assert.match(replies[5].message ?? '', /limit of 5 requests per minute/);
      assert.equal(passed(await burst(mock, 3, MASTER_DATA, volta)), 2, 'volta: the default limits');
      const anonymous = await burst(mock, 2, PUBLIC_REPORTS);
      assert.deepEqual(anonymous.map((reply) => reply.status), [200, 429]);
      assertRefused(anonymous[1], 'FAIRUSE_001', [29, 30]);
      assert.match(anonymous[1].message ?? '', /limit of 1 requests per 30 seconds/);
    });
  });

  it('/__admin, documentation pages, the UI page and B2C paths never count', () =>
    using({ limits: [{ requests: 2, windowSeconds: 60 }] }, async (mock) => {
      const token = await mock.token('eolien-trader');
      const free = ['/__admin/health', '/__admin/clock', '/__admin/users', '/__docs/', '/masterdataapi/v2/', '/masterdataapi/v2/swagger.json', '/publicreportsapi/v1/swagger.json', '/', '/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/v2.0/.well-known/openid-configuration'];
      for (let round = 0; round < 5; round++) {
        for (const path of free) {
          for (const auth of [undefined, token]) {
            const response = await fetch(`${mock.url}${path}`, { headers: auth ? { authorization: `Bearer ${auth}` } : {} });
            await response.arrayBuffer();
            assert.notEqual(response.status, 429, path);
          }
        }
      }
      for (let i = 0; i < 5; i++) await mock.token('eolien-trader'); // POST /__admin/token
      assert.equal(passed(await burst(mock, 3, MASTER_DATA, token)), 2, 'the account holder still has its two');
      assert.equal(passed(await burst(mock, 3, PUBLIC_REPORTS)), 2, 'the address still has its two');
    }));
});

describe('concurrency', () => {
  it('20 concurrent clients of one account holder never get more than 100 through in the minute', () =>
    using({}, async (mock) => {
      const tokens = await Promise.all(Array.from({ length: 20 }, () => mock.token('eolien-trader')));
      const perClient = 8;
      const start = await mock.clock();
      // Each client sends its requests one after another; the 20 clients at once.
      const results = await Promise.all(tokens.map((token) => burst(mock, perClient, MASTER_DATA, token)));
      // Then all at once: every fetch in flight together.
      const together = await Promise.all(Array.from({ length: 60 }, (_, i) => mock.call(MASTER_DATA, tokens[i % 20])));
      assert.ok((await mock.clock()) - start < 60_000, 'within the minute');
      const replies = [...results.flat(), ...together];
      const ok = passed(replies);
      const refused = replies.filter((reply) => reply.status === 429).length;
      assert.equal(ok + refused, 20 * perClient + 60, 'passed + 429 = sent');
      assert.equal(ok, 100);
      for (const reply of replies) if (reply.status === 429) assert.ok(reply.code === 'FAIRUSE_001' || reply.code === 'FAIRUSE_002');
    }));
});
