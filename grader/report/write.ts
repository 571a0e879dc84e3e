import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GradeReport } from '../grade.js';
import { writeAllureResults } from './allure.js';
import { reportHtml } from './html.js';
import { junitXml } from './junit.js';
import { summaryText } from './summary.js';

export const FORMATS = ['text', 'json', 'junit', 'allure', 'html'] as const;
export type Format = (typeof FORMATS)[number];

/** Where each format goes in a report folder (allure: a folder of result files). */
const FILES: Record<Format, string> = { text: 'summary.txt', json: 'report.json', junit: 'junit.xml', allure: 'allure-results', html: 'report.html' };

/**
 * The files of each format under `dir`; returns their paths. Whatever an
 * earlier grade left there goes first, every format's, so a reused folder
 * never mixes two runs (Allure would show both runs' results side by side).
 */
export function writeReports(report: GradeReport, dir: string, formats: readonly Format[], extra: Record<string, unknown> = {}): string[] {
  mkdirSync(dir, { recursive: true });
  removeFromRun(dir, Object.values(FILES));
  const written: string[] = [];
  const write = (format: Format, text: string) => {
    writeFileSync(join(dir, FILES[format]), text);
    written.push(join(dir, FILES[format]));
  };
  if (formats.includes('text')) write('text', summaryText(report));
  if (formats.includes('json')) write('json', `${JSON.stringify({ ...extra, ...report }, null, 2)}\n`);
  if (formats.includes('junit')) write('junit', junitXml(report));
  if (formats.includes('html')) write('html', reportHtml(report));
  if (formats.includes('allure')) {
    writeAllureResults(report, join(dir, FILES.allure), Date.now());
    written.push(join(dir, FILES.allure));
  }
  return written;
}

/** Removes these files or folders of a run from `dir`, where they exist. */
export function removeFromRun(dir: string, names: readonly string[]): void {
  for (const name of names) rmSync(join(dir, name), { recursive: true, force: true });
}

/** `--format` as a list: names separated by commas, or `all`. */
export function parseFormats(text: string | undefined): Format[] | string {
  if (text === undefined || text === 'all') return [...FORMATS];
  const names = text.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !(FORMATS as readonly string[]).includes(name));
  if (unknown.length || !names.length) return `--format must be "all" or a comma-separated list of ${FORMATS.join(', ')}, got "${text}"`;
  return names as Format[];
}
