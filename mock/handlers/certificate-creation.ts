import type { Handler } from './kit.js';

export const certificateCreationHandlers: Record<string, Handler> = {};
