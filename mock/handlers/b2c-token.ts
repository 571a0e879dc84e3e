import type { Handler } from './kit.js';

export const b2cTokenHandlers: Record<string, Handler> = {};
