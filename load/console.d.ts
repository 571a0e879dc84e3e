/** k6 provides `console` (its log output) but @types/k6 does not declare it, and the DOM library would bring far more. */
declare const console: {
  log(...values: unknown[]): void;
  warn(...values: unknown[]): void;
  error(...values: unknown[]): void;
};
