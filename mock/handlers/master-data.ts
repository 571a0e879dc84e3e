import type { Handler } from './kit.js';

export const masterDataHandlers: Record<string, Handler> = {};
