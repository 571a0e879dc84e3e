import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PulledError } from '../contracts/lib/pulled.js';
import { loadServedContracts } from '../contracts/lib/served.js';
import { clientEnvironment, runClient, startCertifyMock, type ClientRun } from './certify.js';
import { gradeJournal, type GradeReport } from './grade.js';
import { JournalError } from './journal-reader.js';
import { parseFormats, removeFromRun, writeReports, type Format } from './report/write.js';
import { summaryText } from './report/summary.js';
import { command, flag, type Values } from '../cli/command.js';
import type { ContractSet } from '../contracts/lib/load.js';

const stamp = (): string => new Date().toISOString().replace(/[:.]/g, '-');

/** Exit code of a journal without API traffic: neither a pass nor a rule failure (GradeReport.reason). */
export const EXIT_NO_API_TRAFFIC = 4;

/** A failed rule says the most (a client that tried ROPC and never reached the APIs fails pkce-s256): 1 before 4. */
const exitCode = (report: GradeReport): number => {
  if (report.rules.some((rule) => !rule.passed && rule.severity === 'error')) return 1;
  return report.reason ? EXIT_NO_API_TRAFFIC : 0;
};

/** `--contracts DIR`: G-REX's own documents, or why they cannot be read; undefined without the flag. */
async function servedContracts(command: string, dir: string | undefined): Promise<ContractSet | undefined | number> {
  if (dir === undefined) return undefined;
  try {
    return await loadServedContracts(dir);
  } catch (error) {
    if (error instanceof PulledError) return fail(command, `--contracts ${dir}: ${error.message}`);
    throw error;
  }
}

function fail(command: string, message: string): number {
  process.stderr.write(`grex-harness ${command}: ${message}\n`);
  return 2;
}

const FORMATS_HELP = 'all (default) or a list of text,json,junit,allure,html';

const GRADE_FLAGS = {
  out: flag.text('DIR', 'report folder (default reports/grade/<timestamp>)'),
  format: flag.text('F', FORMATS_HELP),
  contracts: flag.text('DIR', "grade against G-REX's own documents (as the mock\nserved them with --contracts DIR)"),
};

export const gradeCommand = command({
  name: 'grade',
  summary:
    "Grade a saved journal (NDJSON of the mock's --journal-file or\nGET /__admin/journal, the proxy's, or HAR) against the client rules:\nheaders, paging, rates, back-off, writes, sign-in, contracts.",
  usage: '<journal> [--out DIR] [--format F] [--contracts DIR]',
  flags: GRADE_FLAGS,
  positionals: true,
  exits: [
    [0, 'every error rule passed'],
    [1, 'a rule failed'],
    [2, 'usage error or unreadable journal (a malformed line is named by its number)'],
    [EXIT_NO_API_TRAFFIC, 'no rule failed but no request to the six APIs is in the journal,\nor every one was answered 401 (nothing to grade: not a pass)'],
  ],
  run: (values, { positionals }) => grade(values, positionals),
});

async function grade(parsed: Values<typeof GRADE_FLAGS>, positionals: string[]): Promise<number> {
  const formats = parseFormats(parsed.format);
  if (typeof formats === 'string') return fail('grade', formats);
  if (positionals.length !== 1) return fail('grade', `give one journal file, e.g. grex-harness grade reports/certify/<run>/journal.ndjson${positionals.length ? ` (got ${positionals.length})` : ''}`);
  const contracts = await servedContracts('grade', parsed.contracts);
  if (typeof contracts === 'number') return contracts;
  let report: GradeReport;
  try {
    report = await gradeJournal(positionals[0], contracts);
  } catch (error) {
    if (error instanceof JournalError) return fail('grade', error.message);
    throw error;
  }
  const out = resolve(parsed.out ?? join('reports', 'grade', stamp()));
  writeReports(report, out, formats);
  process.stdout.write(`${summaryText(report)}Reports: ${out}\n`);
  return exitCode(report);
}

function describeRun(run: ClientRun): string {
  switch (run.outcome.kind) {
    case 'exited':
      return `exited with code ${run.outcome.code}`;
    case 'timeout':
      return `did not finish in ${run.outcome.seconds} s and was killed`;
    case 'signal':
      return `was killed by ${run.outcome.signal}`;
    case 'not-started':
      return `could not be started: ${run.outcome.reason}`;
  }
}

const CERTIFY_FLAGS = {
  timeout: flag.seconds('seconds the client may run (default 120)', { min: 1, max: 86_400, fallback: 120 }),
  user: flag.text('U', 'fixture user whose refresh token it gets\n(default eolien-trader)', 'eolien-trader'),
  tenant: flag.text('T', 'gcrfdemo (default) or gcrfr', 'gcrfdemo'),
  out: flag.text('DIR', 'report folder (default reports/certify/<timestamp>)'),
  format: flag.text('F', FORMATS_HELP),
  contracts: flag.text('DIR', "the mock serves G-REX's own documents (as mock\n--contracts) and the traffic is graded against them"),
};

export const certifyCommand = command({
  name: 'certify',
  summary:
    "Start a fresh mock (fair use and firewall on, as G-REX), run a\nclient's command with the environment a G-REX client expects (the\nmanual's BaseURI... variables, B2C settings, RefreshToken, Username,\nPassword), wait for it, grade its traffic, write the reports.",
  usage: '[options] -- <command> [args...]',
  flags: CERTIFY_FLAGS,
  positionals: true,
  passThrough: true,
  exits: [
    [0, 'passed'],
    [1, 'a rule failed'],
    [2, 'usage error'],
    [3, 'the client timed out, crashed or exited non-zero (its traffic is\ngraded all the same)'],
    [EXIT_NO_API_TRAFFIC, 'no rule failed but the client sent no request to the six APIs,\nor every one was answered 401 (nothing to certify: not a pass)'],
  ],
  notes: 'Each run replaces the reports, journal and log a previous run left in\n--out: it grades its own traffic only.',
  run: (values, { positionals, passThrough }) => certify(values, positionals, passThrough),
});

async function certify(parsed: Values<typeof CERTIFY_FLAGS>, positionals: string[], command: string[]): Promise<number> {
  if (positionals.length) return fail('certify', `put the client's command after "--": grex-harness certify [options] -- ${positionals.join(' ')}`);
  if (!command.length || !command[0]) return fail('certify', 'no client command: grex-harness certify [options] -- <command> [args...]');
  const timeout = parsed.timeout;
  const formats: Format[] | string = parseFormats(parsed.format);
  if (typeof formats === 'string') return fail('certify', formats);
  const contracts = await servedContracts('certify', parsed.contracts);
  if (typeof contracts === 'number') return contracts;
  const out = resolve(parsed.out ?? join('reports', 'certify', stamp()));
  mkdirSync(out, { recursive: true });
  const journal = join(out, 'journal.ndjson');
  // The mock appends to its journal file: a reused --out would grade the last run's traffic with this one's.
  removeFromRun(out, ['journal.ndjson', 'client.log']);

  const mock = await startCertifyMock(journal, contracts);
  let run: ClientRun;
  try {
    let env: Record<string, string>;
    try {
      env = await clientEnvironment(mock, parsed.user, parsed.tenant);
    } catch (error) {
      return fail('certify', (error as Error).message);
    }
    process.stderr.write(`grex-harness certify: mock at ${mock.url}; running ${command.join(' ')} as ${parsed.user} (time limit ${timeout} s)\n`);
    run = await runClient(command, env, out, timeout);
  } finally {
    await mock.close();
  }
  const report = await gradeJournal(journal, contracts);
  const client = { command, outcome: run.outcome, log: run.log };
  writeReports(report, out, formats, { client });
  const crashed = run.outcome.kind !== 'exited' || run.outcome.code !== 0;
  process.stdout.write(`${summaryText(report)}Client: ${command.join(' ')} ${describeRun(run)} (output: ${run.log}).\nReports: ${out}\n`);
  return crashed ? 3 : exitCode(report);
}
