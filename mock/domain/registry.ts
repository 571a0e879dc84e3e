import type { Clock } from '../clock.js';
import type { Changes, RecordKind } from '../state/changes.js';
import { uuid } from './ids.js';
import {
  ascending,
  certificateId,
  certificateSerial,
  type Account,
  type AuctionResult,
  type Cancellation,
  type CertificateBundle,
  type CertificateRange,
  type CodeListEntry,
  type CodeListName,
  type IssuanceRequest,
  type MeasurementData,
  type Organization,
  type ProductionDevice,
  type RegistryData,
  type ScheduledTransaction,
  type Transaction,
  type TransactionType,
  type User,
  type UserSecret,
} from './model.js';

/** A rule's refusal: a code of the contracts and the values for its message. Handlers can answer it as it is. */
export interface Refusal {
  kind: 'code';
  code: string;
  params?: Record<string, string | number>;
  refused: true;
}

export const refuse = (code: string, params?: Record<string, string | number>): Refusal => ({ kind: 'code', code, params, refused: true });
export const isRefusal = (value: unknown): value is Refusal => typeof value === 'object' && value !== null && (value as Refusal).refused === true;

/** Who writes: the organisation behind the token (the pipeline has checked the role). */
export interface Writer {
  organizationId: string;
}

/** A located piece of a bundle: the serials a request names, inside one bundle. */
export interface RangePick {
  bundle: CertificateBundle;
  start: number;
  end: number;
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * The registry's state and the primitives every rule builds on: indexes,
 * picking certificate ranges, splitting bundles, recording transactions, and
 * the time-driven events (scheduled transactions, expiry) on the mock's clock.
 * Business rules live in the modules beside this one; this class keeps the
 * state consistent.
 */
export class Registry {
  readonly issuingBody: { organizationId: string; name: string };
  readonly organizations = new Map<string, Organization>();
  readonly users = new Map<string, User>();
  readonly usersByName = new Map<string, User>();
  readonly secrets = new Map<string, UserSecret>();
  readonly accounts = new Map<string, Account>();
  readonly devices = new Map<string, ProductionDevice>();
  readonly bundles = new Map<string, CertificateBundle>();
  readonly bundlesByAccount = new Map<string, Set<CertificateBundle>>();
  readonly transactions = new Map<string, Transaction>();
  readonly cancellations = new Map<string, Cancellation>();
  readonly scheduled = new Map<string, ScheduledTransaction>();
  readonly measurements = new Map<string, MeasurementData>();
  readonly issuanceRequests = new Map<string, IssuanceRequest>();
  readonly codeLists: Record<CodeListName, CodeListEntry[]>;
  readonly auctions: AuctionResult[];
  /** Fingerprints of recent writes (organisation, kind, request), for duplicate detection (TRANSACTION_025). */
  readonly recentWrites = new Map<string, number>();
  /**
   * Transactions oldest first by `createdAt` (equal times in the order
   * recorded), so that reads list them newest first without sorting them all
   * each time: after a load test that is a few hundred thousand.
   */
  private readonly chronological: Transaction[] = [];
  private chronologicalInOrder = true;
  private newestFirst: Transaction[] | undefined;
  /** Exports awaiting the AIB Hub's answer (transaction ids). */
  readonly pendingExports = new Set<string>();
  /** The earliest `executeAt` of a Scheduled item, so a request need not look at them all. */
  nextDueAt = Number.POSITIVE_INFINITY;
  nextCertificate: number;
  /** What changed since the state file's last commit; undefined without a state file (`--state`). */
  changes: Changes | undefined;
  /** Hooks run by `tick` when the clock has moved: scheduled transactions, expiry. */
  private readonly timers: ((now: number) => void)[] = [];
  /** The current UTC day, as [start, end) in ms, so most requests learn that no day has passed with two comparisons. */
  private dayStart = Number.NaN;
  private dayEnd = Number.NaN;
  private dayTurned = true;
  /** `today()`'s last answer, and the start of that UTC day. */
  private todayStart = Number.NaN;
  private todayText = '';

  /** `owned`: the data is the registry's to change (else it works on a copy, and `data` stays pristine). */
  constructor(
    data: Omit<RegistryData, 'epoch'>,
    readonly clock: Clock,
    options: { owned?: boolean } = {},
  ) {
    const copy = options.owned ? data : structuredClone(data);
    this.issuingBody = copy.issuingBody;
    for (const organization of copy.organizations) this.organizations.set(organization.organizationId, organization);
    for (const { password, ...user } of copy.users) {
      this.users.set(user.userId, user);
      this.usersByName.set(user.username.toLowerCase(), user);
      this.secrets.set(user.userId, { password });
    }
    for (const account of copy.accounts) this.accounts.set(account.accountNumber, account);
    for (const device of copy.devices) this.devices.set(device.gsrn, device);
    for (const bundle of copy.bundles) this.addBundle(bundle);
    for (const transaction of copy.transactions) this.transactions.set(transaction.transactionId, transaction);
    // A loop, not push(...all): the large profile has more transactions than a call has room for arguments.
    for (const transaction of this.transactions.values()) this.chronological.push(transaction);
    this.chronologicalInOrder = false;
    for (const cancellation of copy.cancellations) this.cancellations.set(cancellation.transactionId, cancellation);
    for (const item of copy.scheduled) this.scheduled.set(item.scheduledTransactionId, item);
    for (const item of copy.measurements) this.measurements.set(item.measurementDataId, item);
    for (const item of copy.issuanceRequests) this.issuanceRequests.set(item.issuanceRequestId, item);
    this.codeLists = copy.codeLists;
    this.auctions = copy.auctions;
    this.nextCertificate = copy.nextCertificate;
    for (const transaction of this.transactions.values()) {
      if (transaction.type === 'Export' && transaction.status === 'Pending') this.pendingExports.add(transaction.transactionId);
    }
    this.refreshDue();
  }

  refreshDue(): void {
    this.nextDueAt = Number.POSITIVE_INFINITY;
    for (const item of this.scheduled.values()) {
      if (item.status === 'Scheduled') this.nextDueAt = Math.min(this.nextDueAt, Date.parse(item.executeAt));
    }
  }

  /** Notes a record a write created or changed, for the state file. Every change to a record goes through here or `addBundle`/`record`. */
  touch(kind: RecordKind, record: object): void {
    this.changes?.note(kind, record);
  }

  /** Notes a change of one of the registry's own fields, for the state file. */
  touchField(name: 'nextCertificate' | 'codeLists'): void {
    this.changes?.field(name);
  }

  newId(): string {
    return uuid();
  }

  now(): string {
    return this.clock.iso();
  }

  today(): string {
    const now = this.clock.now();
    if (!(now >= this.todayStart && now < this.todayStart + 86_400_000)) {
      this.todayStart = now - (now % 86_400_000);
      this.todayText = day(now);
    }
    return this.todayText;
  }

  /** Registers a time-driven rule; `tick` runs it whenever the clock has moved past a request. */
  onTick(timer: (now: number) => void): void {
    this.timers.push(timer);
  }

  /** Called before every request and after every clock change: lets due events happen, in clock order. */
  tick(): void {
    const now = this.clock.now();
    this.dayTurned = !(now >= this.dayStart && now < this.dayEnd);
    if (this.dayTurned) {
      this.dayStart = now - (now % 86_400_000);
      this.dayEnd = this.dayStart + 86_400_000;
    }
    for (const timer of this.timers) timer(now);
  }

  /** Whether this tick entered another UTC day than the last one (daily rules: expiry). */
  dayChanged(): boolean {
    return this.dayTurned;
  }

  code(list: CodeListName, code: string): CodeListEntry | undefined {
    return this.codeLists[list].find((entry) => entry.code === code);
  }

  accountsOf(organizationId: string): Account[] {
    return [...this.accounts.values()].filter((account) => account.organizationId === organizationId);
  }

  bundlesIn(accountNumber: string): CertificateBundle[] {
    return [...(this.bundlesByAccount.get(accountNumber) ?? [])];
  }

  addBundle(bundle: CertificateBundle): void {
    this.bundles.set(bundle.bundleId, bundle);
    this.changes?.note('bundles', bundle);
    let held = this.bundlesByAccount.get(bundle.accountNumber);
    if (!held) this.bundlesByAccount.set(bundle.accountNumber, (held = new Set()));
    held.add(bundle);
  }

  /**
   * Finds the bundle of an account holding a whole range; null when no one
   * bundle holds it. Certificate ids have one width, so they compare as text
   * in the order of their serials: no parsing per bundle.
   */
  pick(accountNumber: string, range: CertificateRange): RangePick | null {
    const start = certificateSerial(range.startCertificateId);
    const end = certificateSerial(range.endCertificateId);
    if (start === null || end === null || end < start) return null;
    const bundle = this.holder(accountNumber, range.startCertificateId, range.endCertificateId);
    return bundle ? { bundle, start, end } : null;
  }

  /** The bundle of the account whose ids run from at most `from` to at least `to`. */
  holder(accountNumber: string, from: string, to: string): CertificateBundle | undefined {
    for (const bundle of this.bundlesByAccount.get(accountNumber) ?? []) {
      if (bundle.startCertificateId <= from && bundle.endCertificateId >= to) return bundle;
    }
    return undefined;
  }

  /**
   * Cuts a picked range out of its bundle: the parts before and after stay
   * where they were, with the same issuance id, and the picked part is
   * returned as its own bundle (the same object when the range is the whole
   * bundle). Volume is conserved by construction.
   */
  carve(pick: RangePick): CertificateBundle {
    const { bundle, start, end } = pick;
    const first = certificateSerial(bundle.startCertificateId) as number;
    const last = certificateSerial(bundle.endCertificateId) as number;
    if (start === first && end === last) return bundle;
    const taken = this.piece(bundle, start, end);
    if (start > first && end < last) this.addBundle(this.piece(bundle, end + 1, last));
    const keepFrom = start > first ? first : end + 1;
    const keepTo = start > first ? start - 1 : last;
    bundle.startCertificateId = certificateId(keepFrom);
    bundle.endCertificateId = certificateId(keepTo);
    bundle.volumeMWh = keepTo - keepFrom + 1;
    this.touch('bundles', bundle);
    this.addBundle(taken);
    return taken;
  }

  /** A new bundle of the serials `from` to `to`, otherwise like `bundle`. */
  private piece(bundle: CertificateBundle, from: number, to: number): CertificateBundle {
    // Field by field, not a spread: the registry keeps every piece, and a spread copy is two objects (about 200 bytes) where this is one.
    return {
      bundleId: this.newId(),
      issuanceId: bundle.issuanceId,
      accountNumber: bundle.accountNumber,
      startCertificateId: certificateId(from),
      endCertificateId: certificateId(to),
      volumeMWh: to - from + 1,
      productionPeriodStart: bundle.productionPeriodStart,
      productionPeriodEnd: bundle.productionPeriodEnd,
      issuingDate: bundle.issuingDate,
      expiryDate: bundle.expiryDate,
      status: bundle.status,
      gsrn: bundle.gsrn,
      technologyCode: bundle.technologyCode,
      energySourceCode: bundle.energySourceCode,
      country: bundle.country,
      issuingBody: bundle.issuingBody,
      supportReceived: bundle.supportReceived,
    };
  }

  /** Moves a bundle to another account (and status), keeping the index right. */
  place(bundle: CertificateBundle, accountNumber: string, status = bundle.status): void {
    this.bundlesByAccount.get(bundle.accountNumber)?.delete(bundle);
    bundle.accountNumber = accountNumber;
    bundle.status = status;
    this.addBundle(bundle);
  }

  record(type: TransactionType, fields: Partial<Transaction> & { bundles: CertificateRange[]; volumeMWh: number }): Transaction {
    const now = this.now();
    const transaction: Transaction = {
      transactionId: this.newId(),
      type,
      status: 'Completed',
      createdAt: now,
      completedAt: now,
      fromAccountNumber: null,
      toAccountNumber: null,
      ...fields,
    };
    this.transactions.set(transaction.transactionId, transaction);
    this.touch('transactions', transaction);
    const latest = this.chronological.at(-1);
    if (latest && latest.createdAt > transaction.createdAt) this.chronologicalInOrder = false;
    this.chronological.push(transaction);
    this.newestFirst = undefined;
    return transaction;
  }

  /**
   * Every transaction newest first, equal times in the order recorded (what a
   * stable sort by `createdAt`, newest first, gives). Shared until the next
   * transaction: callers must not change it.
   */
  transactionsNewestFirst(): readonly Transaction[] {
    if (this.newestFirst) return this.newestFirst;
    const byTime = this.chronological;
    if (!this.chronologicalInOrder) {
      byTime.sort((a, b) => ascending(a.createdAt, b.createdAt));
      this.chronologicalInOrder = true;
    }
    const out = new Array<Transaction>(byTime.length);
    let next = 0;
    for (let end = byTime.length; end > 0; ) {
      let start = end - 1;
      while (start > 0 && byTime[start - 1].createdAt === byTime[end - 1].createdAt) start--;
      for (let i = start; i < end; i++) out[next++] = byTime[i];
      end = start;
    }
    return (this.newestFirst = out);
  }
}
