import type { Handler } from './kit.js';

export const b2cAuthorizeHandlers: Record<string, Handler> = {};
