import type { Account, Cancellation, CertificateBundle, CertificateRange, ScheduledTransaction, Transaction } from './model.js';
import { certificateId, certificateSerial } from './model.js';
import { monthOf } from './calendar.js';
import { refuse, type RangePick, type Refusal, type Registry, type Writer } from './registry.js';

/** The same write within this long is a transaction loop (TRANSACTION_025). */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;
/** The AIB Hub's answer to an export arrives this long after acceptance, on the mock's clock. */
export const EXPORT_CONFIRMATION_MS = 5 * 60_000;

/**
 * Checks the request's ranges among themselves (what the schema cannot say):
 * start after end, overlapping ranges. Answers the field names for `_002`.
 */
export function rangeProblems(ranges: CertificateRange[], prefix = 'bundles'): string[] {
  const fields: string[] = [];
  const spans = ranges.map((range, index) => ({ index, start: certificateSerial(range.startCertificateId), end: certificateSerial(range.endCertificateId) }));
  for (const span of spans) {
    if (span.start === null) fields.push(`${prefix}[${span.index}].startCertificateId`);
    else if (span.end === null || span.end < span.start) fields.push(`${prefix}[${span.index}].endCertificateId`);
  }
  const sorted = spans.filter((span) => span.start !== null && span.end !== null && span.end >= span.start).sort((a, b) => (a.start as number) - (b.start as number));
  for (let i = 1; i < sorted.length; i++) {
    if ((sorted[i].start as number) <= (sorted[i - 1].end as number)) fields.push(`${prefix}[${sorted[i].index}]`);
  }
  return fields;
}

/** A write's fingerprint: whether the same write came within the window, and what `remember` keeps of it. */
interface Fingerprint {
  seen: boolean;
  key: string;
  at: number;
}

/**
 * 64 bits of a text (two 32-bit FNV-1a hashes with different offsets, the
 * second over the text backwards), as a short flat string. A write's
 * fingerprint is kept ten minutes: the text itself (a few hundred
 * characters, made of pieces the collector copies one by one) cost memory
 * and collection time under write load. Two different writes share a
 * fingerprint with odds of about n²/2⁶⁵ for n writes in the window.
 */
function fingerprintOf(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    a = Math.imul(a ^ text.charCodeAt(i), 0x01000193);
    b = Math.imul(b ^ text.charCodeAt(n - 1 - i), 0x01000193);
  }
  return (a >>> 0).toString(36) + ':' + (b >>> 0).toString(36);
}

/** A write's fingerprint, to refuse the same write again within the window (the manual's "transaction loops"). */
function duplicate(registry: Registry, writer: Writer, kind: string, body: unknown): Fingerprint {
  const key = fingerprintOf(`${writer.organizationId}|${kind}|${JSON.stringify(body)}`);
  const now = registry.clock.now();
  // Oldest first (insertion order), so pruning stops at the first fresh write instead of scanning them all.
  for (const [fingerprint, at] of registry.recentWrites) {
    if (now - at <= DUPLICATE_WINDOW_MS) break;
    registry.recentWrites.delete(fingerprint);
  }
  const at = registry.recentWrites.get(key);
  return { seen: at !== undefined && now - at <= DUPLICATE_WINDOW_MS, key, at: now };
}

/** Notes a write that was carried out, so that the same one within the window is refused. */
function remember(registry: Registry, write: Fingerprint): void {
  registry.recentWrites.delete(write.key);
  registry.recentWrites.set(write.key, write.at);
  registry.changes?.rememberWrite(write.key);
}

function ownAccount(registry: Registry, writer: Writer, accountNumber: string): Account | Refusal {
  const account = registry.accounts.get(accountNumber);
  if (!account || account.organizationId !== writer.organizationId) return refuse('TRANSACTION_003', { 'Account Number': accountNumber });
  if (account.isLocked || account.status !== 'Active') return refuse('TRANSACTION_028');
  return account;
}

/** Every range inside one Active, unexpired bundle of the account; nothing changes yet. */
function pickAll(registry: Registry, accountNumber: string, ranges: CertificateRange[], notActive = 'TRANSACTION_020'): RangePick[] | Refusal {
  const picks: RangePick[] = [];
  const today = registry.today();
  for (const range of ranges) {
    const pick = registry.pick(accountNumber, range);
    if (!pick) return outsideBundles(range);
    if (pick.bundle.status === 'Expired' || (pick.bundle.status === 'Active' && pick.bundle.expiryDate < today)) return refuse(notActive === 'TRANSACTION_020' ? 'TRANSACTION_021' : notActive);
    if (pick.bundle.status !== 'Active') return refuse(notActive);
    picks.push(pick);
  }
  return picks;
}

const outsideBundles = (range: CertificateRange): Refusal =>
  refuse('TRANSACTION_026', { 'Start Certificate Id': range.startCertificateId, 'End Certificate Id': range.endCertificateId });

const volumeOf = (ranges: CertificateRange[]): number =>
  ranges.reduce((sum, range) => sum + ((certificateSerial(range.endCertificateId) ?? 0) - (certificateSerial(range.startCertificateId) ?? 0) + 1), 0);

/** Carves every pick and hands each moved part to `apply`; only called once every check has passed. */
function carveAll(registry: Registry, picks: RangePick[], apply: (bundle: CertificateBundle) => void): void {
  // Carving one pick can shrink a bundle another pick points into, so locate each again by its ids.
  for (const { bundle, start, end } of picks) {
    const holder = registry.holder(bundle.accountNumber, certificateId(start), certificateId(end)) as CertificateBundle;
    apply(registry.carve({ bundle: holder, start, end }));
  }
}

export interface TransferRequest {
  fromAccountNumber: string;
  toAccountNumber: string;
  bundles: CertificateRange[];
}

/** The holdings-independent checks of a transfer, shared by `POST Transfers` and scheduled items at insertion. */
function transferAccounts(registry: Registry, writer: Writer, request: { fromAccountNumber: string; toAccountNumber: string }): { from: Account; to: Account } | Refusal {
  const from = registry.accounts.get(request.fromAccountNumber);
  if (!from || from.organizationId !== writer.organizationId) return refuse('TRANSACTION_003', { 'Account Number': request.fromAccountNumber });
  if (request.fromAccountNumber === request.toAccountNumber) return refuse('TRANSACTION_022');
  if (from.isLocked || from.status !== 'Active') return refuse('TRANSACTION_028');
  const to = registry.accounts.get(request.toAccountNumber);
  if (!to) return refuse('TRANSACTION_027', { 'Account Number': request.toAccountNumber });
  if (to.isLocked || to.status !== 'Active') return refuse('TRANSACTION_023');
  return { from, to };
}

/**
 * Transfer rules in the contract's order. For a scheduled item, `at` is its
 * execution time (the transaction is dated then) and duplicates are not
 * checked (its batch was).
 */
export function transfer(registry: Registry, writer: Writer, request: TransferRequest, at?: string): Transaction | Refusal {
  const duplicates = at === undefined;
  const accounts = transferAccounts(registry, writer, request);
  if ('refused' in accounts) return accounts;
  // Before the holdings: a re-sent transfer finds its certificates gone, and the loop must be named as such.
  const seen = duplicates ? duplicate(registry, writer, 'transfer', request) : undefined;
  if (seen?.seen) return refuse('TRANSACTION_025');
  const picks = pickAll(registry, accounts.from.accountNumber, request.bundles);
  if ('refused' in picks) return picks;
  const standards = new Set(picks.map((pick) => standardOf(registry, pick.bundle)));
  if ([...standards].some((standard) => standard !== accounts.to.standardAssociation)) return refuse('TRANSACTION_024');
  carveAll(registry, picks, (bundle) => registry.place(bundle, accounts.to.accountNumber));
  if (seen) remember(registry, seen);
  return registry.record('Transfer', {
    ...(at ? { createdAt: at, completedAt: at } : {}),
    fromAccountNumber: accounts.from.accountNumber,
    toAccountNumber: accounts.to.accountNumber,
    bundles: request.bundles,
    volumeMWh: volumeOf(request.bundles),
  });
}

/** A bundle's standard is its account's: an account holds only certificates of its standard. */
function standardOf(registry: Registry, bundle: CertificateBundle): string {
  return registry.accounts.get(bundle.accountNumber)?.standardAssociation ?? '';
}

export interface ExportRequest {
  fromAccountNumber: string;
  bundles: CertificateRange[];
  destinationDomain: string;
  destinationAccountNumber: string;
}

export function exportCertificates(registry: Registry, writer: Writer, request: ExportRequest): Transaction | Refusal {
  const from = ownAccount(registry, writer, request.fromAccountNumber);
  if ('refused' in from) return from;
  const domain = registry.code('Domains', request.destinationDomain);
  if (!domain || domain.active !== true || domain.country === 'FR') return refuse('EXPORT_040', { 'Destination Domain': request.destinationDomain });
  const seen = duplicate(registry, writer, 'export', request);
  if (seen.seen) return refuse('TRANSACTION_025');
  const picks = pickAll(registry, from.accountNumber, request.bundles);
  if ('refused' in picks) return picks;
  carveAll(registry, picks, (bundle) => registry.place(bundle, bundle.accountNumber, 'Reserved'));
  remember(registry, seen);
  const transaction = registry.record('Export', {
    status: 'Pending',
    completedAt: null,
    fromAccountNumber: from.accountNumber,
    bundles: request.bundles,
    volumeMWh: volumeOf(request.bundles),
  });
  registry.pendingExports.add(transaction.transactionId);
  return transaction;
}

export interface CancellationRequest {
  fromAccountNumber: string;
  bundles: CertificateRange[];
  beneficiaryName?: string;
  beneficiaryCountry?: string;
  consumptionPeriodStart: string;
  consumptionPeriodEnd: string;
  purpose: string;
  placeOfConsumption: string;
}

export function cancel(registry: Registry, writer: Writer, request: CancellationRequest): Transaction | Refusal {
  const from = ownAccount(registry, writer, request.fromAccountNumber);
  if ('refused' in from) return from;
  if (!request.beneficiaryName?.trim() || !request.beneficiaryCountry) return refuse('CANCELLATION_031');
  if (!registry.code('CancellationPurposes', request.purpose)?.active) return refuse('CANCELLATION_032', { Purpose: request.purpose });
  const seen = duplicate(registry, writer, 'cancellation', request);
  if (seen.seen) return refuse('TRANSACTION_025');
  const picks = pickAll(registry, from.accountNumber, request.bundles);
  if ('refused' in picks) return picks;
  const month = monthOf(request.consumptionPeriodStart);
  if (monthOf(request.consumptionPeriodEnd) !== month || picks.some((pick) => monthOf(pick.bundle.productionPeriodStart) !== month || monthOf(pick.bundle.productionPeriodEnd) !== month)) {
    return refuse('CANCELLATION_030');
  }
  carveAll(registry, picks, (bundle) => registry.place(bundle, bundle.accountNumber, 'Cancelled'));
  remember(registry, seen);
  const transaction = registry.record('Cancellation', { fromAccountNumber: from.accountNumber, bundles: request.bundles, volumeMWh: volumeOf(request.bundles) });
  const statement: Cancellation = {
    transactionId: transaction.transactionId,
    statementId: registry.newId(),
    accountNumber: from.accountNumber,
    beneficiaryName: request.beneficiaryName.trim(),
    beneficiaryCountry: request.beneficiaryCountry,
    consumptionPeriodStart: request.consumptionPeriodStart,
    consumptionPeriodEnd: request.consumptionPeriodEnd,
    purpose: request.purpose,
    placeOfConsumption: request.placeOfConsumption,
  };
  registry.cancellations.set(transaction.transactionId, statement);
  registry.touch('cancellations', statement);
  return transaction;
}

export interface WithdrawalRequest {
  accountNumber: string;
  bundles: CertificateRange[];
  reason: string;
}

export function withdraw(registry: Registry, request: WithdrawalRequest): Transaction | Refusal {
  const picks: RangePick[] = [];
  for (const range of request.bundles) {
    const pick = registry.pick(request.accountNumber, range);
    if (!pick) return outsideBundles(range);
    if (pick.bundle.status !== 'Active') {
      return refuse('WITHDRAWAL_041', { 'Start Certificate Id': range.startCertificateId, 'End Certificate Id': range.endCertificateId, Status: pick.bundle.status });
    }
    picks.push(pick);
  }
  carveAll(registry, picks, (bundle) => registry.place(bundle, bundle.accountNumber, 'Withdrawn'));
  return registry.record('Withdrawal', { fromAccountNumber: request.accountNumber, bundles: request.bundles, volumeMWh: volumeOf(request.bundles) });
}

export interface ScheduledItem extends TransferRequest {
  executeAt: string;
  reference?: string;
}

/** Inserts a batch atomically after the holdings-independent checks; holdings are checked at execution. */
export function schedule(registry: Registry, writer: Writer, items: ScheduledItem[]): ScheduledTransaction[] | Refusal {
  const now = registry.clock.now();
  for (const item of items) {
    const from = registry.accounts.get(item.fromAccountNumber);
    if (!from || from.organizationId !== writer.organizationId) return refuse('TRANSACTION_003', { 'Account Number': item.fromAccountNumber });
  }
  const past = items.findIndex((item) => Date.parse(item.executeAt) <= now);
  if (past >= 0) return refuse('SCHEDULEDTRANSACTION_032', { 'Item Index': past });
  if (items.some((item) => item.fromAccountNumber === item.toAccountNumber)) return refuse('TRANSACTION_022');
  const unknown = items.find((item) => !registry.accounts.has(item.toAccountNumber));
  if (unknown) return refuse('TRANSACTION_027', { 'Account Number': unknown.toAccountNumber });
  const seen = duplicate(registry, writer, 'schedule', items);
  if (seen.seen) return refuse('TRANSACTION_025');
  remember(registry, seen);
  const created = registry.now();
  const inserted = items.map((item) => {
    const scheduled: ScheduledTransaction = {
      scheduledTransactionId: registry.newId(),
      status: 'Scheduled',
      executeAt: new Date(Date.parse(item.executeAt)).toISOString(),
      createdAt: created,
      fromAccountNumber: item.fromAccountNumber,
      toAccountNumber: item.toAccountNumber,
      volumeMWh: volumeOf(item.bundles),
      bundles: item.bundles,
      ...(item.reference !== undefined ? { reference: item.reference } : {}),
      transactionId: null,
      executedAt: null,
      cancelledAt: null,
      failureCode: null,
      failureMessage: null,
    };
    registry.scheduled.set(scheduled.scheduledTransactionId, scheduled);
    registry.touch('scheduled', scheduled);
    return scheduled;
  });
  registry.refreshDue();
  return inserted;
}

export function unschedule(registry: Registry, writer: Writer, id: string): ScheduledTransaction | Refusal {
  const item = registry.scheduled.get(id);
  const owner = item ? registry.accounts.get(item.fromAccountNumber)?.organizationId : undefined;
  if (!item || owner !== writer.organizationId) return refuse('SCHEDULEDTRANSACTION_001', { 'Scheduled Transaction Id': id });
  if (item.status !== 'Scheduled') return refuse('SCHEDULEDTRANSACTION_033', { Status: item.status });
  item.status = 'Cancelled';
  item.cancelledAt = registry.now();
  registry.touch('scheduled', item);
  registry.refreshDue();
  return item;
}

/**
 * The registry's clock-driven events, in time order: scheduled transfers
 * that are due run with the transfer rules; exports the Hub has had time to
 * confirm complete; Active certificates past their expiry date expire.
 */
export function installTimeRules(registry: Registry, messages: (code: string) => string): void {
  registry.onTick((now) => {
    if (now >= registry.nextDueAt) runScheduled(registry, now, messages);
    if (registry.pendingExports.size) settleExports(registry, now);
    if (registry.dayChanged()) expire(registry);
  });
}

function runScheduled(registry: Registry, now: number, messages: (code: string) => string): void {
  const due = [...registry.scheduled.values()].filter((item) => item.status === 'Scheduled' && Date.parse(item.executeAt) <= now);
  due.sort((a, b) => a.executeAt.localeCompare(b.executeAt));
  for (const item of due) {
    const owner = registry.accounts.get(item.fromAccountNumber)?.organizationId ?? '';
    const result = transfer(registry, { organizationId: owner }, item, item.executeAt);
    item.executedAt = item.executeAt;
    if ('refused' in result) {
      item.status = 'Failed';
      item.failureCode = result.code;
      item.failureMessage = messages(result.code);
    } else {
      item.status = 'Completed';
      item.transactionId = result.transactionId;
    }
    registry.touch('scheduled', item);
  }
  registry.refreshDue();
}

/** The Hub confirms an export once it has had EXPORT_CONFIRMATION_MS: its Reserved ranges become Exported. */
function settleExports(registry: Registry, now: number): void {
  for (const transactionId of [...registry.pendingExports]) {
    const transaction = registry.transactions.get(transactionId) as Transaction;
    const at = Date.parse(transaction.createdAt) + EXPORT_CONFIRMATION_MS;
    if (now < at) continue;
    for (const range of transaction.bundles) {
      const pick = registry.pick(transaction.fromAccountNumber ?? '', range);
      if (pick?.bundle.status === 'Reserved') registry.place(registry.carve(pick), pick.bundle.accountNumber, 'Exported');
    }
    transaction.status = 'Completed';
    transaction.completedAt = new Date(at).toISOString();
    registry.touch('transactions', transaction);
    registry.pendingExports.delete(transactionId);
  }
}

function expire(registry: Registry): void {
  const today = registry.today();
  for (const bundle of [...registry.bundles.values()]) {
    if (bundle.status !== 'Active' || bundle.expiryDate >= today) continue;
    registry.place(bundle, bundle.accountNumber, 'Expired');
    registry.record('Expiry', {
      fromAccountNumber: bundle.accountNumber,
      bundles: [{ startCertificateId: bundle.startCertificateId, endCertificateId: bundle.endCertificateId }],
      volumeMWh: bundle.volumeMWh,
    });
  }
}
