import {
  accountHolders,
  accountsInScope,
  auctionResults,
  balances,
  bundleFor,
  bundlesHeldIn,
  datePeriod,
  devicesByGsrn,
  domainStatistics,
  expiringBundles,
  isRegion,
  monthlyVolumes,
  monthPeriod,
  publicDevice,
  publicDevices,
  statementFor,
  statements,
  transactionHistory,
  type CancellationStatement,
  type Grouping,
  type Period,
} from '../domain/reports.js';
import { monthOf, shiftMonth } from '../domain/calendar.js';
import { isRefusal } from '../domain/registry.js';
import { preferredMediaType } from '../negotiation.js';
import { code, found, list, organizationOf, type Handler, type Reply, type RequestContext } from './kit.js';

const DEFAULT_EXPIRY_HORIZON_DAYS = 30;

const text = (context: RequestContext, name: string): string | undefined => context.query[name] as string | undefined;

const currentMonth = (context: RequestContext): string => monthOf(context.registry.today());

/** A private report over the accounts in scope: the caller's (or the domain's), or the one `accountNumber` names. */
function overAccounts(context: RequestContext, read: (accounts: Set<string>) => readonly object[]): Reply {
  const accounts = accountsInScope(context.registry, organizationOf(context), text(context, 'accountNumber'));
  return isRefusal(accounts) ? accounts : list(read(accounts));
}

/** The same, narrowed by `from`/`to` dates; a period that ends before it starts is refused before the account is looked at. */
function overPeriod(context: RequestContext, read: (accounts: Set<string>, period: Period) => readonly object[]): Reply {
  const period = datePeriod(context.registry, text(context, 'from'), text(context, 'to'));
  return isRefusal(period) ? period : overAccounts(context, (accounts) => read(accounts, period));
}

const certificates: Handler = (context) => overAccounts(context, (accounts) => bundlesHeldIn(context.registry, accounts));

const cancellationStatements: Handler = (context) => overPeriod(context, (accounts, period) => statements(context.registry, accounts, period));

/** A statement is data (JSON, or what else the pipeline renders data as) or a PDF document, as Accept asks; neither is 406. */
const cancellationStatement: Handler = (context) => {
  const form = preferredMediaType(context.headers.accept, ['application/json', ...context.dataMediaTypes, 'application/pdf']);
  if (!form) return code('REPORT_015');
  const statement = statementFor(context.registry, String(context.path.statementId), organizationOf(context));
  if (isRefusal(statement) || form !== 'application/pdf') return found(statement);
  return {
    kind: 'raw',
    status: 200,
    body: statementPdf(statement),
    contentType: 'application/pdf',
    headers: { 'content-disposition': `attachment; filename="CancellationStatement_${statement.statementId}.pdf"` },
  };
};

/** A public volume report: `groupBy` (default technology) over months, by default the twelve up to the last complete one. */
const volumes =
  (type: 'Issuance' | 'Cancellation' | 'Expiry'): Handler =>
  (context) => {
    const period = monthPeriod(text(context, 'from'), text(context, 'to'), shiftMonth(currentMonth(context), -1), 'PUBLICREPORT_010');
    if (isRefusal(period)) return period;
    return list(monthlyVolumes(context.registry, type, (text(context, 'groupBy') ?? 'technology') as Grouping, period));
  };

export const reportsHandlers: Record<string, Handler> = {
  ahGetCertificates: certificates,
  ibGetCertificates: certificates,
  ahGetCertificate: (context) => found(bundleFor(context.registry, String(context.path.bundleId), organizationOf(context))),
  ahGetAccountBalances: (context) => overAccounts(context, (accounts) => balances(context.registry, accounts, text(context, 'technologyCode'))),
  ahGetTransactionHistory: (context) => overPeriod(context, (accounts, period) => transactionHistory(context.registry, accounts, period)),
  ahGetCancellationStatements: cancellationStatements,
  ibGetCancellationStatements: cancellationStatements,
  ahGetCancellationStatement: cancellationStatement,
  ibGetCancellationStatement: cancellationStatement,
  ahGetExpiringCertificates: (context) => {
    const days = (context.query.days as number | undefined) ?? DEFAULT_EXPIRY_HORIZON_DAYS;
    return overAccounts(context, (accounts) => expiringBundles(context.registry, accounts, days));
  },
  ibGetDomainStatistics: (context) => {
    const period = monthPeriod(text(context, 'from'), text(context, 'to'), currentMonth(context), 'REPORT_010');
    return isRefusal(period) ? period : list(domainStatistics(context.registry, period, text(context, 'technologyCode')));
  },
  ibGetProductionDevicesReport: (context) => list(devicesByGsrn(context.registry)),

  getAccountHolders: (context) => list(accountHolders(context.registry)),
  getProductionDevices: (context) => list(publicDevices(context.registry, text(context, 'technologyCode'), text(context, 'energySourceCode'))),
  getProductionDevice: (context) => found(publicDevice(context.registry, String(context.path.gsrn))),
  getIssuedVolumes: volumes('Issuance'),
  getCancelledVolumes: volumes('Cancellation'),
  getExpiredVolumes: volumes('Expiry'),
  getAuctionResults: (context) => {
    const region = text(context, 'region');
    // The schema only bounds the length; a region is one of metropolitan France's.
    if (region !== undefined && !isRegion(region)) return code('PUBLICREPORT_002', { parameters: 'region' });
    const period = monthPeriod(text(context, 'from'), text(context, 'to'), currentMonth(context), 'PUBLICREPORT_010');
    return isRefusal(period) ? period : list(auctionResults(context.registry, period, text(context, 'technologyCode'), region));
  },
};

/** The statement as the beneficiary gets it: its claim, then one block per cancelled range. */
function statementLines(statement: CancellationStatement): string[] {
  return [
    `Issuing body: ${statement.issuingBody}`,
    `Statement id: ${statement.statementId}`,
    `Transaction id: ${statement.transactionId}`,
    `Cancelled at: ${statement.cancelledAt}`,
    `Account: ${statement.accountNumber}${statement.organizationName ? ` (${statement.organizationName})` : ''}`,
    `Beneficiary: ${statement.beneficiaryName} (${statement.beneficiaryCountry})`,
    `Consumption period: ${statement.consumptionPeriodStart} to ${statement.consumptionPeriodEnd}`,
    `Place of consumption: ${statement.placeOfConsumption}`,
    `Purpose: ${statement.purpose}`,
    `Volume: ${statement.volumeMWh} MWh (${statement.volumeMWh} guarantees of origin)`,
    '',
    'Cancelled certificates:',
    ...statement.certificates.flatMap((range) => [
      `${range.startCertificateId} to ${range.endCertificateId}: ${range.volumeMWh} MWh`,
      `    GSRN ${range.gsrn}${range.productionDeviceName ? ` (${range.productionDeviceName})` : ''}, ${range.country}, ${range.technologyCode} ${range.energySourceCode}`,
      `    production ${range.productionPeriodStart} to ${range.productionPeriodEnd}, support received: ${range.supportReceived ? 'yes' : 'no'}`,
    ]),
  ];
}

function statementPdf(statement: CancellationStatement): Buffer {
  // A statement never changes, so its document is dated by the cancellation, not by the clock.
  return pdf('Cancellation statement', statementLines(statement), statement.cancelledAt);
}

/** Characters of WinAnsiEncoding outside Latin-1 that French text uses; anything else outside it prints as "?". */
const WIN_ANSI: Record<string, number> = { '€': 0x80, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '–': 0x96, '—': 0x97, 'Œ': 0x8c, 'œ': 0x9c };

/** A PDF string literal in plain ASCII: delimiters escaped, other bytes as octal escapes. */
function pdfString(value: string): string {
  let out = '(';
  for (const char of value) {
    const byte = char.charCodeAt(0) < 0x100 && char.length === 1 ? char.charCodeAt(0) : (WIN_ANSI[char] ?? 0x3f);
    if (char === '(' || char === ')' || char === '\\') out += `\\${char}`;
    else if (byte < 0x20 || byte > 0x7e) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += char;
  }
  return `${out})`;
}

const LINES_PER_PAGE = 52;

/**
 * A minimal PDF 1.4 document: one Helvetica text page per 52 lines, with a
 * cross-reference table at exact byte offsets. Everything is ASCII, so a
 * character is a byte.
 */
function pdf(title: string, lines: string[], at: string): Buffer {
  const pages: string[][] = [];
  for (let i = 0; i < Math.max(lines.length, 1); i += LINES_PER_PAGE) pages.push(lines.slice(i, i + LINES_PER_PAGE));
  const pageIds = pages.map((_, index) => 5 + index * 2);
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages.length} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    `<< /Title ${pdfString(title)} /Producer (grex-harness mock) /CreationDate (D:${at.replace(/[-:T]/g, '').slice(0, 14)}Z) >>`,
  ];
  pages.forEach((page, index) => {
    const heading = index === 0 ? `/F1 16 Tf ${pdfString(title)} Tj 0 -28 Td ` : '';
    const body = page.map((line) => `${pdfString(line)} Tj T*`).join(' ');
    const stream = `BT 14 TL 50 800 Td ${heading}/F1 10 Tf ${body} ET`;
    objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents ${pageIds[index] + 1} 0 R >>`);
    objects.push(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
  });
  let document = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets = objects.map((object, index) => {
    const offset = document.length;
    document += `${index + 1} 0 obj\n${object}\nendobj\n`;
    return offset;
  });
  const xref = document.length;
  document += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('')}`;
  document += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 4 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(document, 'latin1');
}
