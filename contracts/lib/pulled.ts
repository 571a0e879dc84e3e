import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { parse } from 'yaml';
import type { GrexInfo, OpenApiDocument } from './types.js';

/**
 * G-REX's own API documents, as `grex-harness contracts pull` saved them or as
 * a user saved them from the browser (manual 2.2.3): read, converted to
 * OpenAPI 3.0 when they are Swagger 2.0, and told apart by API.
 */
export interface PulledDocument {
  /** The file the document was read from. */
  file: string;
  /** Which of the six APIs it documents (`managementapi`) and its documentation version (`v2`). */
  grex: GrexInfo;
  /** `Swagger 2.0`, `OpenAPI 3.0.1`: what G-REX published. */
  format: string;
  /** OpenAPI 3, its paths relative to the API's base URI (`/AH/managementapi/Accounts`), as the contracts write them. */
  doc: OpenApiDocument;
  /** The document as it came (before conversion). */
  original: unknown;
  /** Where and when `contracts pull` got it; absent for a document saved by hand. */
  source?: string;
  pulledAt?: string;
}

/** What `contracts pull` writes beside the documents: where each came from, when, and what failed. */
export interface PullManifest {
  tool: string;
  target: string;
  pulledAt: string;
  documents: PulledEntry[];
  failures: { api: string; version: string; url: string; problem: string }[];
}

export interface PulledEntry {
  api: string;
  version: string;
  url: string;
  fetchedAt: string;
  contentType: string;
  bytes: number;
  sha256: string;
  format: string;
  /** As it came, byte for byte (relative to the folder). */
  original: string;
  /** Converted to OpenAPI 3.0 for the harness's tooling (relative to the folder). */
  file: string;
}

export const MANIFEST = 'pull.json';

export class PulledError extends Error {}

/**
 * JSON (what G-REX serves) with JSON.parse, which reads megabytes at once;
 * anything else (YAML, JSON with a trailing comma) with the YAML parser,
 * which is far slower and hungrier on a large document.
 */
export function parseJsonOrYaml(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return parse(text);
  }
}

/** The text of a document as JSON or YAML, or why it is not one. */
function parseDocument(text: string, file: string): unknown {
  try {
    return parseJsonOrYaml(text);
  } catch (error) {
    throw new PulledError(`${file}: neither JSON nor YAML (${(error as Error).message.split('\n')[0]})`);
  }
}

/** `Swagger 2.0`, `OpenAPI 3.0.1`, or null when the value is neither. */
export function formatOf(value: unknown): string | null {
  const doc = value as { swagger?: unknown; openapi?: unknown; paths?: unknown } | null;
  if (!doc || typeof doc !== 'object' || !doc.paths || typeof doc.paths !== 'object') return null;
  if (doc.swagger === '2.0') return 'Swagger 2.0';
  if (typeof doc.openapi === 'string' && /^3\.[01]\./.test(doc.openapi)) return `OpenAPI ${doc.openapi}`;
  return null;
}

type Convert = (swagger: unknown, options: Record<string, unknown>) => Promise<OpenApiDocument>;

/**
 * OpenAPI 3 from a Swagger 2.0 or OpenAPI 3 document. Swagger 2.0 goes
 * through swagger2openapi (README, Choices); `text` is the source, which
 * spares the converter writing the whole document out as YAML again.
 */
export async function toOpenApi3(value: unknown, text: string, file: string): Promise<{ doc: OpenApiDocument; format: string }> {
  const format = formatOf(value);
  if (!format) throw new PulledError(`${file}: not a Swagger 2.0 or OpenAPI 3 document (no "swagger": "2.0" or "openapi": "3.x" with paths)`);
  if (format !== 'Swagger 2.0') return { doc: value as OpenApiDocument, format };
  // Loaded only here: the mock without pulled documents starts without it.
  const { convertObj } = createRequire(import.meta.url)('swagger2openapi') as { convertObj: Convert };
  try {
    const doc = await convertObj(structuredClone(value), { patch: true, warnOnly: true, direct: true, text });
    return { doc, format };
  } catch (error) {
    throw new PulledError(`${file}: Swagger 2.0 that swagger2openapi cannot convert (${(error as Error).message})`);
  }
}

/** The path part of the document's first server (or the converted basePath), without a trailing slash. */
function serverPath(doc: OpenApiDocument): string {
  const url = doc.servers?.[0]?.url;
  if (!url) return '';
  try {
    return new URL(url, 'http://grex.invalid').pathname.replace(/\/$/, '').toLowerCase();
  } catch {
    return '';
  }
}

/** `Management API` -> `managementapi`: G-REX's API names are their titles, run together. */
const squeezed = (text: unknown): string => String(text ?? '').toLowerCase().replace(/[^a-z]/g, '');

/** Which API a document describes: its `x-grex`, its server's path, its title, its paths, its file name, in that order. */
function identify(doc: OpenApiDocument, file: string, apis: GrexInfo[]): GrexInfo | undefined {
  const named = doc.info?.['x-grex']?.api;
  const byName = (api: string | undefined) => apis.find((candidate) => candidate.api === api);
  const base = serverPath(doc);
  const paths = Object.keys(doc.paths).map((path) => path.toLowerCase());
  return (
    byName(named) ??
    apis.find((candidate) => base.endsWith(`/${candidate.api}`)) ??
    apis.find((candidate) => squeezed(doc.info?.title).includes(candidate.api)) ??
    apis.find((candidate) => paths.length > 0 && paths.every((path) => path.includes(`/${candidate.api}/`))) ??
    apis.find((candidate) => basename(file).toLowerCase().includes(candidate.api))
  );
}

/**
 * The contracts' paths are relative to the API's base URI
 * (`{host}/managementapi`). A document whose server is the bare host writes
 * the base path into every path: that prefix goes, so the same operation has
 * the same path on both sides.
 */
function relativeToBaseUri(doc: OpenApiDocument, api: string): OpenApiDocument {
  const prefix = `/${api}`;
  if (serverPath(doc).endsWith(prefix)) return doc;
  const entries = Object.entries(doc.paths);
  if (entries.length === 0 || !entries.every(([path]) => path.toLowerCase().startsWith(`${prefix}/`))) return doc;
  return { ...doc, paths: Object.fromEntries(entries.map(([path, item]) => [path.slice(prefix.length), item])) };
}

function readManifest(dir: string): PullManifest | undefined {
  const file = join(dir, MANIFEST);
  if (!existsSync(file)) return undefined;
  try {
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as PullManifest;
    if (!Array.isArray(manifest.documents)) throw new Error('no "documents" list');
    return manifest;
  } catch (error) {
    throw new PulledError(`${file}: not a pull manifest (${(error as Error).message})`);
  }
}

/**
 * Every document of a folder, for the APIs given (the six G-REX APIs of the
 * contracts). With a `pull.json` (what `contracts pull` wrote), the documents
 * it lists; without one, every `.json`/`.yaml` file at its top level.
 */
export async function readPulledDocuments(dir: string, apis: GrexInfo[]): Promise<PulledDocument[]> {
  if (!existsSync(dir)) throw new PulledError(`${dir}: no such folder`);
  if (!statSync(dir).isDirectory()) throw new PulledError(`${dir}: a file, not a folder: give the folder that holds the swagger.json documents (${dirname(dir)})`);
  const manifest = readManifest(dir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new PulledError(`${dir}: cannot read the folder (${(error as Error).message})`);
  }
  // A file saved elsewhere and linked into the folder counts as the file it links to.
  const isFile = (name: string): boolean => statSync(join(dir, name), { throwIfNoEntry: false })?.isFile() === true;
  const files = manifest
    ? manifest.documents.map((entry) => ({ file: join(dir, entry.file), entry }))
    : names
        .filter((name) => /\.(json|ya?ml)$/i.test(name) && name !== MANIFEST && isFile(name))
        .sort((a, b) => a.localeCompare(b))
        .map((name) => ({ file: join(dir, name), entry: undefined }));
  if (files.length === 0) throw new PulledError(`${dir}: no swagger.json documents (.json or .yaml files, or a ${MANIFEST} from grex-harness contracts pull)`);
  const found: PulledDocument[] = [];
  for (const { file, entry } of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new PulledError(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
    const value = parseDocument(text, file);
    const converted = await toOpenApi3(value, text, file);
    const grex = entry ? apis.find((candidate) => candidate.api === entry.api) : identify(converted.doc, file, apis);
    if (!grex) throw new PulledError(`${file}: cannot tell which G-REX API it documents (${apis.map((candidate) => candidate.api).join(', ')}): name the file after it, e.g. ${apis[0]?.api}.json`);
    const twin = found.find((other) => other.grex.api === grex.api);
    if (twin) throw new PulledError(`${file} and ${twin.file} both document ${grex.api}: keep one`);
    const original = entry ? parseDocument(readFileSync(join(dir, entry.original), 'utf8'), entry.original) : value;
    found.push({
      file,
      grex,
      format: entry?.format ?? converted.format,
      doc: relativeToBaseUri(converted.doc, grex.api),
      original,
      ...(entry ? { source: entry.url, pulledAt: entry.fetchedAt } : {}),
    });
  }
  return found;
}
