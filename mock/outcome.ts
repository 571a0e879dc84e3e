import type { ResponseCode } from '../contracts/lib/codes.js';

/** What a pipeline stage or a handler answers; turned into HTTP in one place (the pipeline). */
export interface Outcome {
  status: number;
  body?: unknown;
  /** Defaults to application/json for bodies that are not strings or buffers. */
  contentType?: string;
  headers?: Record<string, string>;
  /** The domain code answered, for the journal. */
  code?: string;
}

export interface Envelope {
  statusCode: number;
  responseCode: string;
  responseMessage: string;
}

/**
 * Builds the manual's envelope for a code, with the message the contracts give
 * it and its `{placeholders}` filled. A code the contracts do not define, or a
 * placeholder left empty, is a programming error and throws.
 */
export class Codes {
  private readonly byCode: Map<string, ResponseCode>;

  constructor(catalogue: ResponseCode[]) {
    this.byCode = new Map(catalogue.map((entry) => [entry.code, entry]));
  }

  has(code: string): boolean {
    return this.byCode.has(code);
  }

  status(code: string): number {
    return this.entry(code).status;
  }

  /** The message as the contracts write it, placeholders and all. */
  template(code: string): string {
    return this.entry(code).message;
  }

  envelope(code: string, params: Record<string, string | number> = {}): Envelope {
    const entry = this.entry(code);
    const message = entry.message.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new Error(`${code}: no value for {${name}}`);
      return String(value);
    });
    return { statusCode: entry.status, responseCode: code, responseMessage: message };
  }

  /** For validation codes, whose one placeholder names the failing fields whatever the contract calls it ({model fields}, {parameters}). */
  naming(code: string, fields: string[]): Outcome {
    const params = Object.fromEntries([...this.template(code).matchAll(/\{([^}]+)\}/g)].map((match) => [match[1], fields.join(', ')]));
    return this.outcome(code, params);
  }

  outcome(code: string, params: Record<string, string | number> = {}, headers?: Record<string, string>): Outcome {
    const body = this.envelope(code, params);
    return { status: body.statusCode, body, code, headers };
  }

  private entry(code: string): ResponseCode {
    const entry = this.byCode.get(code);
    if (!entry) throw new Error(`response code ${code} is not defined by any contract`);
    return entry;
  }
}
