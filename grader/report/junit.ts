import type { GradeReport } from '../grade.js';

const xml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/** JUnit XML for CI: one test case per rule; a failed error rule is a failure, a failed warning is reported in system-out only. */
export function junitXml(report: GradeReport): string {
  const failures = report.rules.filter((rule) => !rule.passed && rule.severity === 'error').length;
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
    `<testsuites name="grex-harness client grade" tests="${report.rules.length}" failures="${failures}">`,
    `  <testsuite name="${xml(report.journal)}" tests="${report.rules.length}" failures="${failures}" errors="0" skipped="0">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
