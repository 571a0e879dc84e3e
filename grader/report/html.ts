import type { GradeReport } from '../grade.js';
import type { RateBucket } from '../rates.js';
import { escapeHtml } from '../../mock/html.js';

const WIDTH = 720;
const HEIGHT = 180;
const PAD = { left: 44, right: 10, top: 12, bottom: 26 };

/**
 * One bar chart as inline SVG: the busiest account holder's requests per
 * bucket, the limit as a red line. Buckets without requests are gaps on the
 * time axis; more buckets than pixels are drawn by their maximum.
 */
function chart(buckets: RateBucket[], bucketMs: number, limit: number, unit: string): string {
  if (!buckets.length) return '<p>No API requests.</p>';
  const first = Date.parse(buckets[0].start);
  const span = Math.max(1, Math.round((Date.parse(buckets[buckets.length - 1].start) - first) / bucketMs) + 1);
  const columns = Math.min(span, WIDTH - PAD.left - PAD.right);
  const values = new Array<number>(columns).fill(0);
  for (const bucket of buckets) {
    const column = Math.min(columns - 1, Math.floor(((Date.parse(bucket.start) - first) / bucketMs) * (columns / span)));
    values[column] = Math.max(values[column], bucket.requests);
  }
  const top = Math.max(limit * 1.2, ...values);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const y = (value: number) => PAD.top + plotH - (value / top) * plotH;
  const barW = plotW / columns;
  const bars = values
    .map((value, i) => (value ? `<rect x="${(PAD.left + i * barW).toFixed(1)}" y="${y(value).toFixed(1)}" width="${Math.max(1, barW - 1).toFixed(1)}" height="${(PAD.top + plotH - y(value)).toFixed(1)}" fill="${value > limit ? '#c62828' : '#1565c0'}"><title>${value} requests</title></rect>` : ''))
    .join('');
  const last = new Date(first + span * bucketMs).toISOString();
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="requests per ${unit} against the limit of ${limit}">
<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ccc"/>
${bars}
<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y(limit).toFixed(1)}" y2="${y(limit).toFixed(1)}" stroke="#c62828" stroke-dasharray="6 3"/>
<text x="${PAD.left + plotW - 4}" y="${(y(limit) - 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#c62828">limit ${limit} per ${unit}</text>
<text x="${PAD.left - 4}" y="${PAD.top + 10}" text-anchor="end" font-size="11">${Math.round(top)}</text>
<text x="${PAD.left - 4}" y="${PAD.top + plotH}" text-anchor="end" font-size="11">0</text>
<text x="${PAD.left}" y="${HEIGHT - 8}" font-size="11">${buckets[0].start}</text>
<text x="${PAD.left + plotW}" y="${HEIGHT - 8}" text-anchor="end" font-size="11">${last}</text>
</svg>`;
}

/** report.html: the rules table beside the rate picture, self-contained (no script, no external asset). */
export function reportHtml(report: GradeReport): string {
  const rows = report.rules
    .map((rule) => {
      const mark = rule.passed ? 'PASS' : rule.severity === 'error' ? 'FAIL' : 'WARN';
      const evidence = rule.evidence.length
        ? `<details><summary>${rule.violations} offending</summary><ul>${rule.evidence.map((finding) => `<li>line ${finding.line} (#${finding.id}): ${escapeHtml(finding.reason)}</li>`).join('')}</ul></details>`
        : `${rule.checked} checked`;
      return `<tr class="${mark.toLowerCase()}"><td>${mark}</td><td><code>${escapeHtml(rule.rule)}</code><br>${escapeHtml(rule.title)}</td><td>${rule.severity}</td><td>${escapeHtml(rule.manualRef)}</td><td>${evidence}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>G-REX client grade: ${report.passed ? 'passed' : 'failed'}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
.layout{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}
table{border-collapse:collapse;max-width:760px}td,th{border:1px solid #ddd;padding:4px 8px;vertical-align:top;font-size:14px;text-align:left}
tr.pass td:first-child{color:#2e7d32;font-weight:bold}tr.fail td:first-child{color:#c62828;font-weight:bold}tr.warn td:first-child{color:#ef6c00;font-weight:bold}
h1 span.passed{color:#2e7d32}h1 span.failed{color:#c62828}p.reason{color:#c62828;font-weight:bold}
</style></head><body>
<h1>G-REX client grade: <span class="${report.passed ? 'passed' : 'failed'}">${report.passed ? 'passed' : 'failed'}</span></h1>
${report.reason ? `<p class="reason">${escapeHtml(report.reason.charAt(0).toUpperCase() + report.reason.slice(1))}.</p>\n` : ''}<p>Journal <code>${escapeHtml(report.journal)}</code>: ${report.exchanges} exchanges, ${report.graded} graded${report.from ? `, ${report.from} to ${report.to}` : ''}; ${report.rates.holders} account holder(s).</p>
<div class="layout">
<section><h2>Rules</h2><table><tr><th></th><th>Rule</th><th>Severity</th><th>Manual</th><th>Evidence</th></tr>
${rows}
</table></section>
<section><h2>Request rates</h2>
<p>Requests of the busiest account holder in each clock minute and hour (fair use counts per account holder; the rules check sliding windows). Red bars are over the limit.</p>
<h3>Per minute (limit 100, manual 1.2.1)</h3>
${chart(report.rates.perMinute, 60_000, 100, 'minute')}
<h3>Per hour (limit 500, manual 1.2.1)</h3>
${chart(report.rates.perHour, 3_600_000, 500, 'hour')}
</section>
</div>
</body></html>
`;
}
