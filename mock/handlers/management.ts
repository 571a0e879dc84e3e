import type { Handler } from './kit.js';

export const managementHandlers: Record<string, Handler> = {};
