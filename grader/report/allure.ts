import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NO_API_TRAFFIC, type GradeReport } from '../grade.js';
import type { RuleResult } from '../rule.js';

/**
 * Allure result files (the allure-js-commons model: `<uuid>-result.json`,
 * one per rule, evidence as a text attachment), so `allure generate` shows
 * the grade beside the Playwright suites' results. A journal without API
 * traffic adds a failed result of its own (NO_API_TRAFFIC).
 */
export function writeAllureResults(report: GradeReport, dir: string, at: number): void {
  mkdirSync(dir, { recursive: true });
  const noTraffic: RuleResult[] = report.reason
    ? [{ rule: NO_API_TRAFFIC.id, title: NO_API_TRAFFIC.title, severity: 'error', manualRef: NO_API_TRAFFIC.manualRef, description: report.reason, passed: false, checked: 0, violations: 0, evidence: [] }]
    : [];
  for (const rule of [...noTraffic, ...report.rules]) {
    const uuid = randomUUID();
    const attachments = [];
    if (rule.evidence.length) {
      const source = `${randomUUID()}-attachment.txt`;
      writeFileSync(join(dir, source), rule.evidence.map((finding) => `line ${finding.line} (#${finding.id}): ${finding.reason}`).join('\n'));
      attachments.push({ name: `evidence (${rule.evidence.length} of ${rule.violations})`, type: 'text/plain', source });
    }
    const result = {
      uuid,
      historyId: createHash('md5').update(`grex-harness.grade.${rule.rule}`).digest('hex'),
      testCaseId: createHash('md5').update(rule.rule).digest('hex'),
      name: `${rule.rule}: ${rule.title}`,
      fullName: `grex-harness.grade#${rule.rule}`,
      description: `${rule.description}\n\nManual: ${rule.manualRef}.`,
      status: rule.passed ? 'passed' : 'failed',
      statusDetails: rule.passed ? {} : { message: rule.violations ? `${rule.violations} of ${rule.checked} exchanges offend${rule.severity === 'warning' ? ' (warning)' : ''}` : rule.description },
      stage: 'finished',
      start: at,
      stop: at,
      steps: [],
      attachments,
      parameters: [{ name: 'journal', value: report.journal }],
      labels: [
        { name: 'severity', value: rule.severity === 'error' ? 'critical' : 'minor' },
        { name: 'suite', value: 'Client grade' },
        { name: 'parentSuite', value: 'grex-harness' },
        { name: 'tag', value: rule.severity },
      ],
      links: [],
    };
    writeFileSync(join(dir, `${uuid}-result.json`), JSON.stringify(result));
  }
}
