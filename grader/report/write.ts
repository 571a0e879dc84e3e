import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GradeReport } from '../grade.js';
import { writeAllureResults } from './allure.js';
import { reportHtml } from './html.js';
import { junitXml } from './junit.js';
import { summaryText } from './summary.js';

export const FORMATS = ['text', 'json', 'junit', 'allure', 'html'] as const;
export type Format = (typeof FORMATS)[number];

/** The files of each format under `dir`; returns their paths. */
export function writeReports(report: GradeReport, dir: string, formats: readonly Format[], extra: Record<string, unknown> = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    written.push(join(dir, name));
  };
  if (formats.includes('text')) write('summary.txt', summaryText(report));
  if (formats.includes('json')) write('report.json', `${JSON.stringify({ ...extra, ...report }, null, 2)}\n`);
  if (formats.includes('junit')) write('junit.xml', junitXml(report));
  if (formats.includes('html')) write('report.html', reportHtml(report));
  if (formats.includes('allure')) {
    writeAllureResults(report, join(dir, 'allure-results'), Date.now());
    written.push(join(dir, 'allure-results'));
  }
  return written;
}

/** `--format` as a list: names separated by commas, or `all`. */
export function parseFormats(text: string | undefined): Format[] | string {
  if (text === undefined || text === 'all') return [...FORMATS];
  const names = text.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !(FORMATS as readonly string[]).includes(name));
  if (unknown.length || !names.length) return `--format must be "all" or a comma-separated list of ${FORMATS.join(', ')}, got "${text}"`;
  return names as Format[];
}
