/**
 * What the load scenarios claim, written once. The k6 scripts (load/*.k6.ts)
 * and the Node test that checks the same claims here (test/load.test.ts) both
 * read this module, so it imports nothing: k6 has no Node, Node has no k6.
 *
 * Time is compressed on the mock's clock, not on the policy: a phase sends
 * its requests within `phaseSeconds` of wall time (so within one minute of
 * the mock's clock, which runs with wall time), then POST /__admin/clock
 * moves the clock past the windows (and blocks) before the next phase. The
 * real limits (100 a minute, 500 an hour) stay in force.
 */

export interface FairUseLimit {
  requests: number;
  windowSeconds: number;
}

/** The manual's policy (1.2), posted to /__admin/fairuse before every scenario so the mock's settings are known. */
export const FAIR_USE = {
  enabled: true,
  limits: [
    { requests: 100, windowSeconds: 60 },
    { requests: 500, windowSeconds: 3600 },
  ] as FairUseLimit[],
  blockAfter: 10,
  blockSeconds: 900,
  overrides: {} as Record<string, FairUseLimit[]>,
};

/** Requests a holder may send in one minute. */
export const PER_MINUTE = FAIR_USE.limits[0].requests;

/**
 * Account holders that can play: the large profile's 200 active
 * organisations (its one Inactive organisation's tokens are refused, 401).
 * The scenarios find them by one probe request each, then move the clock a
 * minute so the probe counts for nothing.
 */
export const ACTIVE_HOLDERS = 200;

/** Scenario 1: every holder at the limit, never past it. */
export const COMPLIANT = {
  holders: ACTIVE_HOLDERS,
  /** Per holder and phase: exactly the minute's allowance. */
  requests: PER_MINUTE,
  phases: 3,
  phaseSeconds: 15,
  /** Between phases: the minute window empties. Three phases of 100 stay under 500 an hour. */
  between: 'PT1M',
};

/** Scenario 2: the same holders, one in `violatorEvery` sending past the limit. */
export const MIXED = {
  holders: ACTIVE_HOLDERS,
  violatorEvery: 5,
  compliantRequests: PER_MINUTE,
  violatorRequests: PER_MINUTE + 20,
  phases: 2,
  phaseSeconds: 10,
  /** Past the violators' block and the minute window, so every phase starts fresh for everyone. */
  between: `PT${FAIR_USE.blockSeconds + 60}S`,
};

/** Scenario 3: transfers and scheduled transfers from a few holders, the clock running ahead, volumes checked at the end. */
export const SOAK = {
  holders: 10,
  seconds: 10,
  /** Each holder writes once per this many seconds of wall time. */
  writeEverySeconds: 1,
  /** Every `scheduledEvery`-th write is a batch of scheduled transfers instead of a transfer. */
  scheduledEvery: 4,
  batch: 5,
  /** executeAt, from the mock's clock at the time of the batch: they run during the soak. */
  executeAfter: 'PT2M',
  /** Holder 0 moves the clock this much every `clockEvery` writes. */
  clockStep: 'PT1M',
  clockEvery: 5,
  /** At the end: long enough for every scheduled transfer to be due. */
  settle: 'PT10M',
  referencePrefix: 'load-soak',
};

export const USER_AGENT = 'grex-harness-load';
/** Every request carries a unique id in this header, so the mock's journal shows none was lost or answered twice. */
export const REQUEST_ID_HEADER = 'x-load-request-id';

export type Role = 'AH' | 'IB';

export interface FixtureUser {
  username: string;
  organization?: string;
  roles: string[];
  status: string;
}

export interface Holder {
  username: string;
  organization: string;
  role: Role;
}

/**
 * One user per organisation (fair use counts per account holder): its active
 * AH Trader, else (the issuing body) its active IB Root; in organisation
 * order; the first `count`, or all.
 */
export function pickHolders(users: FixtureUser[], count?: number, roles: Role[] = ['AH', 'IB']): Holder[] {
  const byOrganization = new Map<string, Holder>();
  const sorted = [...users].sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  for (const role of roles) {
    const needed = role === 'AH' ? 'AH Trader' : 'IB Root';
    for (const user of sorted) {
      if (user.status !== 'Active' || !user.organization || !user.roles.includes(needed) || byOrganization.has(user.organization)) continue;
      byOrganization.set(user.organization, { username: user.username, organization: user.organization, role });
    }
  }
  const holders = [...byOrganization.values()].sort((a, b) => (a.organization < b.organization ? -1 : a.organization > b.organization ? 1 : 0));
  if (count === undefined) return holders;
  if (holders.length < count) throw new Error(`${count} account holders needed, the mock has ${holders.length} with an active ${roles.join(' or ')} user (start it with --profile large)`);
  return holders.slice(0, count);
}

/** The read every holder sends: its own accounts, paged as the manual asks. */
export const readPath = (role: Role): string => `/managementapi/${role}/managementapi/Accounts?$top=10&$skip=0`;

export const isViolator = (holder: number): boolean => holder % MIXED.violatorEvery === 0;

export interface Answer {
  status: number;
  code?: string;
}

/**
 * What the n-th request (1-based) of a holder within one minute must get:
 * 200 up to the limit; then 429 FAIRUSE_001; sent on while limited, the
 * `blockAfter`-th further one blocks the holder (429 FAIRUSE_002) and so is
 * every one after it.
 */
export function expectedAnswer(n: number): Answer {
  if (n <= PER_MINUTE) return { status: 200 };
  if (n <= PER_MINUTE + FAIR_USE.blockAfter) return { status: 429, code: 'FAIRUSE_001' };
  return { status: 429, code: 'FAIRUSE_002' };
}

/** Totals the mixed scenario must produce, per kind of holder, over all its phases. */
export function mixedTotals(): { compliant: { holders: number; ok: number; limited: number; blocked: number }; violators: { holders: number; ok: number; limited: number; blocked: number } } {
  let violators = 0;
  for (let holder = 0; holder < MIXED.holders; holder++) if (isViolator(holder)) violators++;
  const count = (requests: number, code?: string): number => {
    let total = 0;
    for (let n = 1; n <= requests; n++) if (expectedAnswer(n).code === code) total++;
    return total * MIXED.phases;
  };
  return {
    compliant: { holders: MIXED.holders - violators, ok: count(MIXED.compliantRequests) * (MIXED.holders - violators), limited: 0, blocked: 0 },
    violators: {
      holders: violators,
      ok: count(MIXED.violatorRequests) * violators,
      limited: count(MIXED.violatorRequests, 'FAIRUSE_001') * violators,
      blocked: count(MIXED.violatorRequests, 'FAIRUSE_002') * violators,
    },
  };
}

/** When (ms after the phase starts) a holder sends its i-th request (0-based): evenly spread, holders staggered. */
export function sendAt(i: number, requests: number, holder: number, holders: number, phaseSeconds: number): number {
  const interval = (phaseSeconds * 1000) / requests;
  return i * interval + (holder / holders) * interval;
}

// Soak: which certificates a holder moves, from where to where.

export interface AccountView {
  accountNumber: string;
  standardAssociation: string;
  status: string;
  isLocked: boolean;
}

export interface BundleView {
  accountNumber: string;
  startCertificateId: string;
  endCertificateId: string;
  volumeMWh: number;
  status: string;
  expiryDate: string;
}

export interface SoakRoute {
  from: string;
  to: string;
  /** The serial of the first certificate to move; the next ones follow it. */
  firstSerial: number;
}

/** Certificates one holder moves in the soak: one per transfer, `batch` per scheduled batch. */
export function soakCertificates(seconds = SOAK.seconds): number {
  const writes = Math.floor(seconds / SOAK.writeEverySeconds) + 1;
  const batches = Math.floor(writes / SOAK.scheduledEvery) + 1;
  return writes + batches * SOAK.batch;
}

/** Certificate ids are "1" and 19 digits; the serial part stays far below 2^53 in the fixtures. */
export const serialOf = (certificateId: string): number => Number(certificateId.slice(1));
export const certificateId = (serial: number): string => `1${String(serial).padStart(19, '0')}`;

/**
 * A route for one soak holder: its largest Active bundle that holds enough
 * certificates and outlives the soak, into an active, unlocked account of the
 * same standard held by the next holder.
 */
export function soakRoute(ownAccounts: AccountView[], bundles: BundleView[], nextAccounts: AccountView[], today: string, seconds = SOAK.seconds): SoakRoute | undefined {
  const usable = (account: AccountView): boolean => account.status === 'Active' && !account.isLocked;
  const standardOf = new Map(ownAccounts.filter(usable).map((account) => [account.accountNumber, account.standardAssociation]));
  const needed = soakCertificates(seconds);
  const candidates = bundles
    .filter((bundle) => bundle.status === 'Active' && standardOf.has(bundle.accountNumber) && bundle.expiryDate > today)
    .filter((bundle) => serialOf(bundle.endCertificateId) - serialOf(bundle.startCertificateId) + 1 >= needed)
    .sort((a, b) => b.volumeMWh - a.volumeMWh);
  for (const bundle of candidates) {
    const to = nextAccounts.find((account) => usable(account) && account.standardAssociation === standardOf.get(bundle.accountNumber));
    if (to) return { from: bundle.accountNumber, to: to.accountNumber, firstSerial: serialOf(bundle.startCertificateId) };
  }
  return undefined;
}

export interface SoakWrite {
  kind: 'transfer' | 'scheduled';
  body: unknown;
  /** Certificates it moves. */
  certificates: number;
}

/** The w-th write (0-based) of a holder: a transfer of the next certificate, or every `scheduledEvery`-th a batch of scheduled single-certificate transfers. */
export function soakWrite(route: SoakRoute, w: number, mockNow: number, holder: number): SoakWrite {
  const scheduledBefore = Math.floor(w / SOAK.scheduledEvery);
  const used = w - scheduledBefore + scheduledBefore * SOAK.batch;
  const range = (serial: number): { startCertificateId: string; endCertificateId: string } => ({ startCertificateId: certificateId(serial), endCertificateId: certificateId(serial) });
  const first = route.firstSerial + used;
  if ((w + 1) % SOAK.scheduledEvery !== 0) {
    return { kind: 'transfer', certificates: 1, body: { fromAccountNumber: route.from, toAccountNumber: route.to, bundles: [range(first)] } };
  }
  const executeAt = new Date(mockNow + durationMs(SOAK.executeAfter)).toISOString();
  const items = [];
  for (let k = 0; k < SOAK.batch; k++) {
    items.push({ fromAccountNumber: route.from, toAccountNumber: route.to, bundles: [range(first + k)], executeAt, reference: `${SOAK.referencePrefix}-${holder}-${w}-${k}` });
  }
  return { kind: 'scheduled', certificates: SOAK.batch, body: items };
}

/** The ISO-8601 durations used above (PTnHnMnS), in ms. */
export function durationMs(iso: string): number {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(iso);
  if (!match) throw new Error(`not a PTnHnMnS duration: ${iso}`);
  return ((Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * 60 + Number(match[3] ?? 0)) * 1000;
}

/** The mock's GET /__admin/state, the parts the soak's volume check reads. */
export interface RegistryState {
  volumeMWh: Record<string, number>;
  transactions: Record<string, number>;
  scheduled: Record<string, number>;
}

/**
 * The soak's volume check, comparing the registry before and after: no MWh
 * created or lost, none changed status (transfers keep certificates Active),
 * and one Transfer transaction per transfer answered 201 and per scheduled
 * transfer executed. Returns what failed, empty when all holds.
 */
export function soakVolumeProblems(before: RegistryState, after: RegistryState, transfers: number): string[] {
  const problems: string[] = [];
  const total = (volumes: Record<string, number>): number => Object.values(volumes).reduce((sum, value) => sum + value, 0);
  if (total(after.volumeMWh) !== total(before.volumeMWh)) problems.push(`total volume ${total(before.volumeMWh)} MWh became ${total(after.volumeMWh)} MWh`);
  if ((after.volumeMWh.Active ?? 0) !== (before.volumeMWh.Active ?? 0)) problems.push(`Active volume ${before.volumeMWh.Active} MWh became ${after.volumeMWh.Active} MWh`);
  const executed = (after.scheduled.Completed ?? 0) - (before.scheduled.Completed ?? 0);
  const transferTransactions = (after.transactions.Transfer ?? 0) - (before.transactions.Transfer ?? 0);
  if (transferTransactions !== transfers + executed) problems.push(`${transferTransactions} new Transfer transactions, expected ${transfers} transfers + ${executed} scheduled executed`);
  return problems;
}
