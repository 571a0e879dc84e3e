import type { Handler } from './kit.js';

export const reportsHandlers: Record<string, Handler> = {};
