import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NO_API_TRAFFIC } from '../../grader/grade.js';

/**
 * Certifies the integrator's client: `grex-harness certify` on the command in
 * GREX_CLIENT_CMD (a shell command line), with a fresh mock of its own, and
 * one step per rule so the Playwright and Allure reports list each with its
 * evidence. Every rule is checked (soft), so all failures show; skipped,
 * with one line, when GREX_CLIENT_CMD is not set.
 */
const command = process.env.GREX_CLIENT_CMD;
const timeoutSeconds = Number(process.env.GREX_CLIENT_TIMEOUT ?? 120);

interface RuleResult {
  rule: string;
  title: string;
  severity: 'error' | 'warning';
  manualRef: string;
  passed: boolean;
  violations: number;
  checked: number;
  evidence: { line: number; id: number; reason: string }[];
}

test.describe('client certification', () => {
  test.skip(!command, 'GREX_CLIENT_CMD is not set: give the command that runs your client, e.g. GREX_CLIENT_CMD="npx tsx fixtures/clients/reference.ts"');

  test('the client passes every rule of the G-REX API Manual', async ({}, testInfo) => {
    test.setTimeout((timeoutSeconds + 60) * 1000);
    const out = testInfo.outputPath('certify');
    const cli = join(process.cwd(), 'cli', 'grex-harness.ts');
    const run = spawnSync(process.execPath, ['--import', 'tsx', cli, 'certify', '--out', out, '--timeout', String(timeoutSeconds), '--', command as string], { encoding: 'utf8', timeout: (timeoutSeconds + 50) * 1000 });
    await testInfo.attach('summary', { body: run.stdout + run.stderr, contentType: 'text/plain' });
    expect(run.status, `certify could not run:\n${run.stderr}`).not.toBe(2);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { rules: RuleResult[]; apiRequests: number; reason?: string; client: { outcome: { kind: string; code?: number } } };
    await testInfo.attach('report.html', { path: join(out, 'report.html'), contentType: 'text/html' });
    await testInfo.attach('journal.ndjson', { path: join(out, 'journal.ndjson'), contentType: 'application/x-ndjson' });
    expect(report.client.outcome, `the client did not finish cleanly (${join(out, 'client.log')})`).toEqual({ kind: 'exited', code: 0 });
    // Every rule passes a client that sent nothing, or whose every API request was answered 401: that is no certification (certify's exit 4).
    await test.step(`${NO_API_TRAFFIC.id}: ${NO_API_TRAFFIC.title}`, () => {
      expect.soft(report.reason, report.reason).toBeUndefined();
    });
    for (const rule of report.rules) {
      await test.step(`${rule.rule}: ${rule.title} (manual ${rule.manualRef})`, () => {
        const evidence = rule.evidence.map((finding) => `line ${finding.line}: ${finding.reason}`).join('\n');
        // A warning (e.g. polling) is reported, not failed: certify's own exit code treats it so.
        if (rule.severity === 'warning' && !rule.passed) testInfo.annotations.push({ type: 'warning', description: `${rule.rule}: ${rule.violations} of ${rule.checked} exchanges offend: ${evidence}` });
        else expect.soft(rule.passed, `${rule.violations} of ${rule.checked} exchanges offend:\n${evidence}`).toBe(true);
      });
    }
  });
});
