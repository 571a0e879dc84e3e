import { REGION_NAMES } from '../../fixtures/france.js';
import { monthOf, shiftMonth } from './calendar.js';
import { ascending, certificateSerial, touchesAccounts, type Account, type AuctionResult, type Cancellation, type CertificateBundle, type Organization, type ProductionDevice, type Transaction, type TransactionType } from './model.js';
import { refuse, type Refusal, type Registry } from './registry.js';

/**
 * The read models of the Private and Public Reports APIs, computed from the
 * registry on every request so that they always agree with its bundles and
 * transactions. `organizationId` narrows a report to one organisation (an
 * account holder); undefined means the issuing body's whole domain.
 */

const dateOf = (instant: string): string => instant.slice(0, 10);
const DAY_MS = 86_400_000;
const addDays = (date: string, days: number): string => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

export const isRegion = (name: string): boolean => REGION_NAMES.includes(name);

const notFound = (item: string, identifier: string): Refusal => refuse('REPORT_001', { Item: item, Identifier: identifier });
const notYours = (item: string, identifier: string): Refusal => refuse('REPORT_003', { Item: item, Identifier: identifier });

/** The account numbers a report covers: the one asked for (if it is the caller's), else every account in scope. */
export function accountsInScope(registry: Registry, organizationId: string | undefined, accountNumber: string | undefined): Set<string> | Refusal {
  if (accountNumber !== undefined) {
    const account = registry.accounts.get(accountNumber);
    if (!account) return notFound('Account number', accountNumber);
    if (organizationId !== undefined && account.organizationId !== organizationId) return notYours('Account number', accountNumber);
    return new Set([accountNumber]);
  }
  const accounts: Account[] = organizationId === undefined ? [...registry.accounts.values()] : registry.accountsOf(organizationId);
  return new Set(accounts.map((account) => account.accountNumber));
}

export interface Period {
  from?: string;
  to?: string;
}

/** A period of dates or `YYYY-MM` months: `refusal` (the API's `_010`) when it ends before it starts. */
function ordered<P extends Period>(period: P, refusal: string): P | Refusal {
  return period.from !== undefined && period.to !== undefined && period.from > period.to ? refuse(refusal, { from: period.from, to: period.to }) : period;
}

/** Dates of the Private Reports (`from`/`to` inclusive); without `to`, up to today. */
export function datePeriod(registry: Registry, from: string | undefined, to: string | undefined): Period | Refusal {
  return ordered({ from, to: to ?? registry.today() }, 'REPORT_010');
}

/** Months (`YYYY-MM`, inclusive): twelve months up to `lastMonth` unless the request says otherwise. */
export function monthPeriod(from: string | undefined, to: string | undefined, lastMonth: string, refusal: string): Required<Period> | Refusal {
  const end = to ?? lastMonth;
  return ordered({ from: from ?? shiftMonth(end, -11), to: end }, refusal);
}

const within = (value: string, period: Period): boolean => (period.from === undefined || value >= period.from) && (period.to === undefined || value <= period.to);

/** Every bundle held in the accounts, newest issuance first (`issuingDate desc`). */
export function bundlesHeldIn(registry: Registry, accounts: Set<string>): CertificateBundle[] {
  // Ties by certificate id: the order depends on the data only, not on the history of moves, so it survives a restart (--state) and a restore.
  return [...accounts]
    .flatMap((accountNumber) => registry.bundlesIn(accountNumber))
    .sort((a, b) => ascending(b.issuingDate, a.issuingDate) || ascending(a.startCertificateId, b.startCertificateId));
}

export function bundleFor(registry: Registry, bundleId: string, organizationId: string | undefined): CertificateBundle | Refusal {
  const bundle = registry.bundles.get(bundleId);
  if (!bundle) return notFound('Bundle id', bundleId);
  if (organizationId !== undefined && registry.accounts.get(bundle.accountNumber)?.organizationId !== organizationId) return notYours('Bundle id', bundleId);
  return bundle;
}

/** Bundles that can still be used and expire within `days` days, today being the first: soonest first. */
export function expiringBundles(registry: Registry, accounts: Set<string>, days: number): CertificateBundle[] {
  const today = registry.today();
  const last = addDays(today, days - 1);
  return bundlesHeldIn(registry, accounts)
    .filter((bundle) => (bundle.status === 'Active' || bundle.status === 'Reserved') && bundle.expiryDate >= today && bundle.expiryDate <= last)
    .sort((a, b) => ascending(a.expiryDate, b.expiryDate));
}

export interface AccountBalance {
  accountNumber: string;
  accountName: string;
  technologyCode: string;
  activeVolumeMWh: number;
  reservedVolumeMWh: number;
}

/** Active and Reserved volumes per account and technology; what is neither has no row. */
export function balances(registry: Registry, accounts: Set<string>, technologyCode: string | undefined): AccountBalance[] {
  const rows = new Map<string, AccountBalance>();
  for (const bundle of bundlesHeldIn(registry, accounts)) {
    if ((bundle.status !== 'Active' && bundle.status !== 'Reserved') || (technologyCode !== undefined && bundle.technologyCode !== technologyCode)) continue;
    const key = `${bundle.accountNumber}|${bundle.technologyCode}`;
    let row = rows.get(key);
    if (!row) {
      const accountName = registry.accounts.get(bundle.accountNumber)?.name ?? '';
      row = { accountNumber: bundle.accountNumber, accountName, technologyCode: bundle.technologyCode, activeVolumeMWh: 0, reservedVolumeMWh: 0 };
      rows.set(key, row);
    }
    if (bundle.status === 'Active') row.activeVolumeMWh += bundle.volumeMWh;
    else row.reservedVolumeMWh += bundle.volumeMWh;
  }
  return [...rows.values()].sort((a, b) => ascending(a.accountNumber, b.accountNumber) || ascending(a.technologyCode, b.technologyCode));
}

/** Transactions into or out of the accounts whose creation date is in the period, newest first. */
export function transactionHistory(registry: Registry, accounts: Set<string>, period: Period): Transaction[] {
  return registry.transactionsNewestFirst().filter((transaction) => touchesAccounts(transaction, accounts) && within(dateOf(transaction.createdAt), period));
}

/** Finds the bundle that holds a certificate, whatever its account: serials are unique in the registry. */
type Locator = (certificateId: string) => CertificateBundle | undefined;

/** A locator over every bundle, built once for a report that looks up many ranges. */
function registryLocator(registry: Registry): Locator {
  const spans = [...registry.bundles.values()]
    .map((bundle) => ({ start: certificateSerial(bundle.startCertificateId) ?? 0, end: certificateSerial(bundle.endCertificateId) ?? 0, bundle }))
    .sort((a, b) => a.start - b.start);
  return (id) => {
    const serial = certificateSerial(id) ?? -1;
    let low = 0;
    let high = spans.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const span = spans[middle];
      if (serial < span.start) high = middle - 1;
      else if (serial > span.end) low = middle + 1;
      else return span.bundle;
    }
    return undefined;
  };
}

/** A locator within one account, for a single statement (cheaper than indexing the registry). */
const accountLocator =
  (registry: Registry, accountNumber: string): Locator =>
  (id) =>
    registry.pick(accountNumber, { startCertificateId: id, endCertificateId: id })?.bundle;

export interface CancelledCertificates {
  startCertificateId: string;
  endCertificateId: string;
  volumeMWh: number;
  gsrn: string;
  productionDeviceName?: string;
  technologyCode: string;
  energySourceCode: string;
  country: string;
  productionPeriodStart: string;
  productionPeriodEnd: string;
  supportReceived: boolean;
}

export interface CancellationStatement extends Cancellation {
  organizationName?: string;
  cancelledAt: string;
  volumeMWh: number;
  issuingBody: string;
  certificates: CancelledCertificates[];
}

const rangeVolume = (start: string, end: string): number => (certificateSerial(end) ?? 0) - (certificateSerial(start) ?? 0) + 1;

/** The statement of a completed cancellation: its claim, and the production behind each cancelled range. */
function statementOf(registry: Registry, cancellation: Cancellation, locate: Locator): CancellationStatement | null {
  const transaction = registry.transactions.get(cancellation.transactionId);
  if (!transaction || transaction.status !== 'Completed') return null;
  const organizationId = registry.accounts.get(cancellation.accountNumber)?.organizationId;
  const organizationName = organizationId ? registry.organizations.get(organizationId)?.name : undefined;
  const certificates = transaction.bundles.flatMap((range): CancelledCertificates[] => {
    const bundle = locate(range.startCertificateId);
    if (!bundle) return [];
    const deviceName = registry.devices.get(bundle.gsrn)?.name;
    return [
      {
        ...range,
        volumeMWh: rangeVolume(range.startCertificateId, range.endCertificateId),
        gsrn: bundle.gsrn,
        ...(deviceName !== undefined ? { productionDeviceName: deviceName } : {}),
        technologyCode: bundle.technologyCode,
        energySourceCode: bundle.energySourceCode,
        country: bundle.country,
        productionPeriodStart: bundle.productionPeriodStart,
        productionPeriodEnd: bundle.productionPeriodEnd,
        supportReceived: bundle.supportReceived,
      },
    ];
  });
  return {
    ...cancellation,
    ...(organizationName !== undefined ? { organizationName } : {}),
    cancelledAt: transaction.completedAt ?? transaction.createdAt,
    volumeMWh: transaction.volumeMWh,
    issuingBody: registry.issuingBody.name,
    certificates,
  };
}

/** The statements of the accounts cancelled in the period, newest first. */
export function statements(registry: Registry, accounts: Set<string>, period: Period): CancellationStatement[] {
  const locate = registryLocator(registry);
  return [...registry.cancellations.values()]
    .filter((cancellation) => accounts.has(cancellation.accountNumber))
    .map((cancellation) => statementOf(registry, cancellation, locate))
    .filter((statement): statement is CancellationStatement => statement !== null && within(dateOf(statement.cancelledAt), period))
    .sort((a, b) => ascending(b.cancelledAt, a.cancelledAt));
}

export function statementFor(registry: Registry, statementId: string, organizationId: string | undefined): CancellationStatement | Refusal {
  const cancellation = [...registry.cancellations.values()].find((candidate) => candidate.statementId === statementId);
  const statement = cancellation ? statementOf(registry, cancellation, accountLocator(registry, cancellation.accountNumber)) : null;
  if (!cancellation || !statement) return notFound('Statement id', statementId);
  if (organizationId !== undefined && registry.accounts.get(cancellation.accountNumber)?.organizationId !== organizationId) return notYours('Statement id', statementId);
  return statement;
}

/** Certificates a completed transaction moved: when, how many, and the production they attest (from the bundle that holds them). */
interface Movement {
  at: string;
  volumeMWh: number;
  bundle: CertificateBundle;
}

function movements(registry: Registry, type: TransactionType, locate: Locator): Movement[] {
  const moved: Movement[] = [];
  for (const transaction of registry.transactions.values()) {
    if (transaction.type !== type || transaction.status !== 'Completed') continue;
    const at = transaction.completedAt ?? transaction.createdAt;
    for (const range of transaction.bundles) {
      const bundle = locate(range.startCertificateId);
      if (bundle) moved.push({ at, volumeMWh: rangeVolume(range.startCertificateId, range.endCertificateId), bundle });
    }
  }
  return moved;
}

export interface DomainStatistic {
  month: string;
  technologyCode: string;
  issuedVolumeMWh: number;
  cancelledVolumeMWh: number;
  expiredVolumeMWh: number;
  exportedVolumeMWh: number;
  importedVolumeMWh: number;
}

type VolumeField = Exclude<keyof DomainStatistic, 'month' | 'technologyCode'>;

const STATISTIC_OF: [TransactionType, VolumeField][] = [
  ['Issuance', 'issuedVolumeMWh'],
  ['Cancellation', 'cancelledVolumeMWh'],
  ['Expiry', 'expiredVolumeMWh'],
  ['Export', 'exportedVolumeMWh'],
  ['Import', 'importedVolumeMWh'],
];

/** Monthly volumes per technology, each movement in the month it completed (an issuance's is its issuing date). */
export function domainStatistics(registry: Registry, period: Required<Period>, technologyCode: string | undefined): DomainStatistic[] {
  const locate = registryLocator(registry);
  const rows = new Map<string, DomainStatistic>();
  for (const [type, field] of STATISTIC_OF) {
    for (const movement of movements(registry, type, locate)) {
      const month = monthOf(movement.at);
      const technology = movement.bundle.technologyCode;
      if (!within(month, period) || (technologyCode !== undefined && technology !== technologyCode)) continue;
      const key = `${month}|${technology}`;
      let row = rows.get(key);
      if (!row) {
        row = { month, technologyCode: technology, issuedVolumeMWh: 0, cancelledVolumeMWh: 0, expiredVolumeMWh: 0, exportedVolumeMWh: 0, importedVolumeMWh: 0 };
        rows.set(key, row);
      }
      row[field] += movement.volumeMWh;
    }
  }
  return [...rows.values()].sort((a, b) => ascending(a.month, b.month) || ascending(a.technologyCode, b.technologyCode));
}

export type Grouping = 'technology' | 'energySource' | 'country';
const GROUP_FIELD = { technology: 'technologyCode', energySource: 'energySourceCode', country: 'country' } as const;

export interface MonthlyVolume {
  month: string;
  technologyCode?: string;
  energySourceCode?: string;
  country?: string;
  volumeMWh: number;
}

/**
 * The public monthly volumes: issued by production month, cancelled and
 * expired by the month it happened, one row per month and group.
 */
export function monthlyVolumes(registry: Registry, type: 'Issuance' | 'Cancellation' | 'Expiry', groupBy: Grouping, period: Required<Period>): MonthlyVolume[] {
  const field = GROUP_FIELD[groupBy];
  const rows = new Map<string, MonthlyVolume>();
  for (const movement of movements(registry, type, registryLocator(registry))) {
    const month = monthOf(type === 'Issuance' ? movement.bundle.productionPeriodStart : movement.at);
    if (!within(month, period)) continue;
    const group = movement.bundle[field];
    const key = `${month}|${group}`;
    const row = rows.get(key) ?? { month, [field]: group, volumeMWh: 0 };
    row.volumeMWh += movement.volumeMWh;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => ascending(a.month, b.month) || ascending(a[field] ?? '', b[field] ?? ''));
}

/** The active account holders, by name. */
export function accountHolders(registry: Registry): Organization[] {
  return [...registry.organizations.values()].filter((organization) => organization.type === 'AccountHolder' && organization.status === 'Active').sort((a, b) => ascending(a.name, b.name));
}

/** What the public sees of a device: its owner's name instead of ids and accounts, and whether it still runs. */
export type PublicProductionDevice = Omit<ProductionDevice, 'organizationId' | 'issuingAccountNumber' | 'status'> & {
  accountHolderName: string;
  isActive: boolean;
};

/** Devices past registration (Approved, or Inactive after it): their GOs may still be traded. */
const isPublic = (device: ProductionDevice): boolean => device.status === 'Approved' || device.status === 'Inactive';

function publicFields(registry: Registry, device: ProductionDevice): PublicProductionDevice {
  return {
    gsrn: device.gsrn,
    name: device.name,
    accountHolderName: registry.organizations.get(device.organizationId)?.name ?? '',
    technologyCode: device.technologyCode,
    energySourceCode: device.energySourceCode,
    capacityMW: device.capacityMW,
    commissioningDate: device.commissioningDate,
    country: device.country,
    ...(device.location !== undefined ? { location: device.location } : {}),
    supportScheme: device.supportScheme,
    isActive: device.status === 'Approved',
  };
}

/** Every registered device, by GSRN: the issuing body's report, and the source of the public list. */
export const devicesByGsrn = (registry: Registry): ProductionDevice[] => [...registry.devices.values()].sort((a, b) => ascending(a.gsrn, b.gsrn));

export function publicDevices(registry: Registry, technologyCode: string | undefined, energySourceCode: string | undefined): PublicProductionDevice[] {
  return devicesByGsrn(registry)
    .filter((device) => isPublic(device) && (technologyCode === undefined || device.technologyCode === technologyCode) && (energySourceCode === undefined || device.energySourceCode === energySourceCode))
    .map((device) => publicFields(registry, device));
}

export function publicDevice(registry: Registry, gsrn: string): PublicProductionDevice | Refusal {
  const device = registry.devices.get(gsrn);
  return device && isPublic(device) ? publicFields(registry, device) : refuse('PUBLICREPORT_001', { GSRN: gsrn });
}

/** Lots of the auctions held in the period, newest auction first, then by region and technology. */
export function auctionResults(registry: Registry, period: Required<Period>, technologyCode: string | undefined, region: string | undefined): AuctionResult[] {
  return registry.auctions
    .filter((lot) => within(monthOf(lot.auctionDate), period) && (technologyCode === undefined || lot.technologyCode === technologyCode) && (region === undefined || lot.region === region))
    .sort((a, b) => ascending(b.auctionDate, a.auctionDate) || ascending(a.region, b.region) || ascending(a.technologyCode, b.technologyCode));
}
