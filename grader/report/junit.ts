import { NO_API_TRAFFIC, type GradeReport } from '../grade.js';

const xml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/**
 * JUnit XML for CI: one test case per rule; a failed error rule is a
 * failure, a failed warning is reported in system-out only. A journal
 * without API traffic adds a failed case of its own (NO_API_TRAFFIC).
 */
export function junitXml(report: GradeReport): string {
  const noTraffic = report.reason
    ? [`    <testcase classname="grex-harness.grade.error" name="${xml(`${NO_API_TRAFFIC.id}: ${NO_API_TRAFFIC.title}`)}">\n      <failure message="${xml(report.reason)}" type="${NO_API_TRAFFIC.id}">${xml(report.reason)}</failure>\n    </testcase>`]
    : [];
  const tests = report.rules.length + noTraffic.length;
  const failures = report.rules.filter((rule) => !rule.passed && rule.severity === 'error').length + noTraffic.length;
  const cases = report.rules.map((rule) => {
    const evidence = rule.evidence.map((finding) => `line ${finding.line} (#${finding.id}): ${finding.reason}`).join('\n');
    const head = `    <testcase classname="grex-harness.grade.${rule.severity}" name="${xml(`${rule.rule}: ${rule.title}`)}">`;
    if (rule.passed) return `${head}\n      <system-out>${xml(`${rule.checked} checked. Manual ${rule.manualRef}.`)}</system-out>\n    </testcase>`;
    const message = xml(`${rule.violations} of ${rule.checked} exchanges offend (manual ${rule.manualRef})`);
    if (rule.severity === 'warning') return `${head}\n      <system-out>WARNING: ${message}\n${xml(evidence)}</system-out>\n    </testcase>`;
    return `${head}\n      <failure message="${message}" type="${xml(rule.rule)}">${xml(evidence)}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="grex-harness client grade" tests="${tests}" failures="${failures}">`,
    `  <testsuite name="${xml(report.journal)}" tests="${tests}" failures="${failures}" errors="0" skipped="0">`,
    ...noTraffic,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
