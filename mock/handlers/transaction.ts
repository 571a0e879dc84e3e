import { touchesAccounts, type Transaction } from '../domain/model.js';
import type { Registry } from '../domain/registry.js';
import {
  cancel,
  exportCertificates,
  rangeProblems,
  schedule,
  transfer,
  unschedule,
  withdraw,
  type CancellationRequest,
  type ExportRequest,
  type ScheduledItem,
  type TransferRequest,
  type WithdrawalRequest,
} from '../domain/transactions.js';
import { callerOf, code, invalid, json, list, writerOf, type Handler, type Reply, type RequestContext } from './kit.js';

/** Account numbers of the caller's organisation: what an account holder may see. */
function ownAccounts(registry: Registry, organizationId: string): Set<string> {
  return new Set(registry.accountsOf(organizationId).map((account) => account.accountNumber));
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean => a.size === b.size && [...a].every((item) => b.has(item));

/**
 * An account holder's share of the newest-first list, per organisation and
 * its accounts, until the next transaction (the registry then makes a new
 * list, and this falls away with it): a client polling its transactions
 * after a long run is not answered by a filter over all of them each time.
 */
const shares = new WeakMap<readonly Transaction[], Map<string, { accounts: ReadonlySet<string>; visible: readonly Transaction[] }>>();

/** Newest first: the domain sees them all, an account holder those into or out of its accounts. */
function visibleTransactions(context: RequestContext): readonly Transaction[] {
  const caller = callerOf(context);
  const all = context.registry.transactionsNewestFirst();
  if (caller.scope === 'domain') return all;
  const organizationId = caller.organization.organizationId;
  const accounts = ownAccounts(context.registry, organizationId);
  let byOrganization = shares.get(all);
  if (!byOrganization) shares.set(all, (byOrganization = new Map()));
  const known = byOrganization.get(organizationId);
  if (known && sameSet(known.accounts, accounts)) return known.visible;
  const visible = all.filter((transaction) => touchesAccounts(transaction, accounts));
  byOrganization.set(organizationId, { accounts, visible });
  return visible;
}

function oneTransaction(context: RequestContext) {
  const caller = callerOf(context);
  const transaction = context.registry.transactions.get(String(context.path.transactionId));
  const visible = transaction && (caller.scope === 'domain' || touchesAccounts(transaction, ownAccounts(context.registry, caller.organization.organizationId)));
  return visible ? json(transaction) : code('TRANSACTION_001', { 'Transaction Id': String(context.path.transactionId) });
}

/** Range checks the schema cannot express answer the operation's `_002`, naming the fields. */
const invalidRanges = (area: string, ranges: TransferRequest['bundles'], prefix = 'bundles') => invalid(area, rangeProblems(ranges, prefix));

const created = (result: Transaction | { kind: 'code'; code: string }) =>
  'transactionId' in result ? code(result.type === 'Withdrawal' ? 'WITHDRAWAL_201' : 'TRANSACTION_201', { 'Transaction Id': result.transactionId }) : result;

export const transactionHandlers: Record<string, Handler> = {
  ahGetTransactions: (context) => list(visibleTransactions(context)),
  ibGetTransactions: (context) => list(visibleTransactions(context)),
  ahGetTransaction: oneTransaction,
  ibGetTransaction: oneTransaction,

  ahCreateTransfer: (context) => {
    const body = context.body as TransferRequest;
    return invalidRanges('TRANSACTION', body.bundles) ?? created(transfer(context.registry, writerOf(context), body));
  },
  ahCreateExport: (context) => {
    const body = context.body as ExportRequest;
    return invalidRanges('TRANSACTION', body.bundles) ?? created(exportCertificates(context.registry, writerOf(context), body));
  },
  ahCreateCancellation: (context) => {
    const body = context.body as CancellationRequest;
    const ranges = invalidRanges('TRANSACTION', body.bundles);
    if (ranges) return ranges;
    if (body.consumptionPeriodEnd < body.consumptionPeriodStart) return invalid('TRANSACTION', ['consumptionPeriodEnd']) as Reply;
    return created(cancel(context.registry, writerOf(context), body));
  },
  ibCreateWithdrawal: (context) => {
    const body = context.body as WithdrawalRequest;
    if (!body.reason.trim()) return invalid('WITHDRAWAL', ['reason']) as Reply;
    return invalidRanges('WITHDRAWAL', body.bundles) ?? created(withdraw(context.registry, body));
  },

  ahGetScheduledTransactions: (context) => {
    const accounts = ownAccounts(context.registry, callerOf(context).organization.organizationId);
    return list([...context.registry.scheduled.values()].filter((item) => accounts.has(item.fromAccountNumber)).sort((a, b) => a.executeAt.localeCompare(b.executeAt)));
  },
  ahGetScheduledTransaction: (context) => {
    const item = context.registry.scheduled.get(String(context.path.scheduledTransactionId));
    const accounts = ownAccounts(context.registry, callerOf(context).organization.organizationId);
    return item && accounts.has(item.fromAccountNumber) ? json(item) : code('SCHEDULEDTRANSACTION_001', { 'Scheduled Transaction Id': String(context.path.scheduledTransactionId) });
  },
  ahCreateScheduledTransactions: (context) => {
    const items = context.body as ScheduledItem[];
    const fields = items.flatMap((item, index) => rangeProblems(item.bundles, `[${index}].bundles`));
    const problems = invalid('SCHEDULEDTRANSACTION', fields);
    if (problems) return problems;
    const result = schedule(context.registry, writerOf(context), items);
    return Array.isArray(result) ? code('SCHEDULEDTRANSACTION_201', { Count: result.length }) : result;
  },
  ahDeleteScheduledTransaction: (context) => {
    const result = unschedule(context.registry, writerOf(context), String(context.path.scheduledTransactionId));
    return 'refused' in result ? result : code('SCHEDULEDTRANSACTION_203', { 'Scheduled Transaction Id': result.scheduledTransactionId });
  },
};
