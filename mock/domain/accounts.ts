import { isActiveCode } from './master-data.js';
import type { Account, AccountStatus, BundleStatus, DeviceStatus } from './model.js';
import { isRefusal, refuse, type Refusal, type Registry, type Writer } from './registry.js';

export interface NewAccount {
  name: string;
  standardAssociation: string;
  parentAccountNumber?: string | null;
}

export interface AccountUpdate {
  name: string;
  parentAccountNumber: string | null;
  /** May be sent, but an account's standard never changes (ACCOUNT_005). */
  standardAssociation?: string;
  status: AccountStatus;
}

/** Certificates still in the account: the ones that could yet move or be used. The rest is history. */
const HELD: ReadonlySet<BundleStatus> = new Set(['Active', 'Reserved']);
/** Devices that have, or may yet have, certificates issued into their issuing account. */
const ISSUING: ReadonlySet<DeviceStatus> = new Set(['Draft', 'Submitted', 'Approved']);

/** The parent rules shared by creation and update, in the contracts' order (ACCOUNT_006, 012, 007). */
function parentFor(registry: Registry, organizationId: string, parentAccountNumber: string, standard: string): Account | Refusal {
  const parent = registry.accounts.get(parentAccountNumber);
  if (!parent || parent.organizationId !== organizationId) return refuse('ACCOUNT_006');
  if (parent.status !== 'Active') return refuse('ACCOUNT_012');
  if (parent.standardAssociation !== standard) return refuse('ACCOUNT_007');
  return parent;
}

/**
 * Account numbers are `643`, the holder's three digits and a running number
 * (fixtures/accounts.ts): a new account continues its organisation's series;
 * an organisation without accounts starts the next holder series.
 */
function nextAccountNumber(registry: Registry, organizationId: string): string {
  const numbers = [...registry.accounts.keys()];
  const highest = (digits: (accountNumber: string) => string, among = numbers): number => among.reduce((max, number) => Math.max(max, Number(digits(number))), 0);
  const own = registry.accountsOf(organizationId)[0];
  const series = own ? own.accountNumber.slice(0, 6) : `643${String(highest((number) => number.slice(3, 6)) + 1).padStart(3, '0')}`;
  // 18 digits exceed a safe integer: only the 12-digit running part is counted.
  const last = highest((number) => number.slice(6), numbers.filter((number) => number.startsWith(series)));
  return `${series}${String(last + 1).padStart(12, '0')}`;
}

/** Opens an account in the writer's organisation: Active, not default, not locked, not issuing. */
export function openAccount(registry: Registry, writer: Writer, request: NewAccount): Account | Refusal {
  if (!isActiveCode(registry, 'Standards', request.standardAssociation)) return refuse('ACCOUNT_005');
  const parentAccountNumber = request.parentAccountNumber ?? null;
  if (parentAccountNumber !== null) {
    const parent = parentFor(registry, writer.organizationId, parentAccountNumber, request.standardAssociation);
    if (isRefusal(parent)) return parent;
  }
  const account: Account = {
    accountNumber: nextAccountNumber(registry, writer.organizationId),
    name: request.name,
    organizationId: writer.organizationId,
    standardAssociation: request.standardAssociation,
    parentAccountNumber,
    isDefault: false,
    isLocked: false,
    isIssuingAccount: false,
    status: 'Active',
    createdAt: registry.now(),
  };
  registry.accounts.set(account.accountNumber, account);
  registry.touch('accounts', account);
  return account;
}

/** The parent would be the account itself or one of its sub-accounts: the tree would lose its top. */
function wouldCircle(registry: Registry, account: Account, parentAccountNumber: string): boolean {
  const seen = new Set<string>();
  for (let at: string | null = parentAccountNumber; at !== null && !seen.has(at); at = registry.accounts.get(at)?.parentAccountNumber ?? null) {
    if (at === account.accountNumber) return true;
    seen.add(at);
  }
  return false;
}

/** ACCOUNT_010 and ACCOUNT_013: what keeps an active account from being closed. */
function inactivationRefusal(registry: Registry, account: Account): Refusal | null {
  const hasSubAccounts = [...registry.accounts.values()].some((candidate) => candidate.parentAccountNumber === account.accountNumber);
  const holdsCertificates = registry.bundlesIn(account.accountNumber).some((bundle) => HELD.has(bundle.status));
  if (hasSubAccounts || holdsCertificates) return refuse('ACCOUNT_010');
  const issuesInto = [...registry.devices.values()].some((device) => device.issuingAccountNumber === account.accountNumber && ISSUING.has(device.status));
  return issuesInto ? refuse('ACCOUNT_013') : null;
}

/** The account holder's update of an account it owns, with the manual's ACCOUNT_005..013 rules in the contract's order. */
export function updateAccount(registry: Registry, account: Account, update: AccountUpdate): Account | Refusal {
  if (account.isLocked) return refuse('ACCOUNT_008');
  if (account.isDefault) return refuse('ACCOUNT_009');
  if (update.standardAssociation !== undefined && update.standardAssociation !== account.standardAssociation) return refuse('ACCOUNT_005');
  if (update.parentAccountNumber !== null) {
    const parent = parentFor(registry, account.organizationId, update.parentAccountNumber, account.standardAssociation);
    if (isRefusal(parent)) return parent;
    if (wouldCircle(registry, account, update.parentAccountNumber)) return refuse('ACCOUNT_011');
  }
  if (update.status === 'Inactive' && account.status === 'Active') {
    const refusal = inactivationRefusal(registry, account);
    if (refusal) return refusal;
  }
  account.name = update.name;
  account.parentAccountNumber = update.parentAccountNumber;
  account.status = update.status;
  registry.touch('accounts', account);
  return account;
}

/** The issuing body locks or unlocks an account; asking for the state it is already in is refused (ACCOUNT_014). */
export function setLock(registry: Registry, account: Account, locked: boolean): Account | Refusal {
  if (account.isLocked === locked) return refuse('ACCOUNT_014');
  account.isLocked = locked;
  registry.touch('accounts', account);
  return account;
}

/** An account that can receive issued certificates for the organisation's devices (DEVICE_009). */
export function isUsableIssuingAccount(registry: Registry, organizationId: string, accountNumber: string | null): boolean {
  const account = accountNumber === null ? undefined : registry.accounts.get(accountNumber);
  return account !== undefined && account.organizationId === organizationId && account.status === 'Active' && !account.isLocked;
}
