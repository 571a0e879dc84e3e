import type { GradeReport } from '../grade.js';

const peak = (buckets: { requests: number; holder: string; start: string }[]) => buckets.reduce<(typeof buckets)[number] | undefined>((best, bucket) => (!best || bucket.requests > best.requests ? bucket : best), undefined);

/** The console summary (also summary.txt): verdict, one line per rule, the first evidence of each failed rule, the peak rates. */
export function summaryText(report: GradeReport, evidencePerRule = 5): string {
  const failedErrors = report.rules.filter((rule) => !rule.passed && rule.severity === 'error').length;
  const failedWarnings = report.rules.filter((rule) => !rule.passed && rule.severity === 'warning').length;
  const lines = [
    report.reason
      ? `G-REX client grade: FAILED: ${report.reason}${failedErrors ? `; ${failedErrors} of ${report.rules.length} rules failed` : ''}`
      : `G-REX client grade: ${report.passed ? 'PASSED' : 'FAILED'} (${report.rules.length - failedErrors - failedWarnings} of ${report.rules.length} rules passed${failedErrors ? `, ${failedErrors} failed` : ''}${failedWarnings ? `, ${failedWarnings} warning${failedWarnings > 1 ? 's' : ''}` : ''})`,
    `Journal: ${report.journal}: ${report.exchanges} exchanges, ${report.graded} graded${report.from ? `, ${report.from} to ${report.to}` : ''}`,
    '',
  ];
  const width = Math.max(...report.rules.map((rule) => rule.rule.length));
  for (const rule of report.rules) {
    const mark = rule.passed ? 'PASS' : rule.severity === 'error' ? 'FAIL' : 'WARN';
    const counts = rule.passed ? `${rule.checked} checked` : `${rule.violations} of ${rule.checked} offend`;
    lines.push(`  ${mark}  ${rule.rule.padEnd(width)}  ${rule.title} (manual ${rule.manualRef.split(';')[0]}): ${counts}`);
    if (!rule.passed) {
      for (const finding of rule.evidence.slice(0, evidencePerRule)) lines.push(`          line ${finding.line} (#${finding.id}): ${finding.reason}`);
      if (rule.violations > evidencePerRule) lines.push(`          ... and ${rule.violations - evidencePerRule} more (report.json lists ${Math.min(rule.violations, rule.evidence.length)})`);
    }
  }
  const minute = peak(report.rates.perMinute);
  const hour = peak(report.rates.perHour);
  lines.push('', minute && hour ? `Peak rates (busiest account holder, clock buckets): ${minute.requests} requests in the minute from ${minute.start} (limit 100), ${hour.requests} in the hour from ${hour.start} (limit 500).` : 'No API requests.');
  return `${lines.join('\n')}\n`;
}
