/** The parts of an OpenAPI 3.0.3 document the harness reads. Loose where the spec is loose. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export type Scope = 'domain' | 'organisation' | 'public';

export interface Grant {
  functionality: string;
  roles: string[];
  scope: Scope;
}

export interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: JsonObject[];
  requestBody?: JsonObject;
  responses?: Record<string, JsonObject>;
  security?: Record<string, string[]>[];
  'x-permissions'?: Grant[];
  [key: string]: unknown;
}

export interface OpenApiDocument {
  openapi: string;
  info: JsonObject & { title: string; version: string; 'x-grex'?: GrexInfo };
  servers?: { url: string; description?: string }[];
  tags?: { name: string; description?: string }[];
  security?: Record<string, string[]>[];
  paths: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, JsonObject>>;
  [key: string]: unknown;
}

export interface GrexInfo {
  api: string;
  version: string;
  postmanVariable?: string;
}
