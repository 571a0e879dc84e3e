import { test } from '@playwright/test';
import { DEMO_HOW_TO } from './support/target.js';

/** The demo project's only test when DEMO is not configured: skipped, saying what to set (the run prints the same line once). */
test('DEMO target configured', { tag: '@readonly' }, () => {
  test.skip(true, DEMO_HOW_TO);
});
