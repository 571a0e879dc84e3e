/**
 * One vocabulary for "the contract says one thing, G-REX another": the
 * contract diff (G-REX's published swagger.json against ours,
 * `grex-harness contracts diff`) and the DEMO proxy's drift report (G-REX's
 * answers against ours) class and word their findings here, so a finding
 * reads the same, with the same class, wherever it is found.
 *
 * "Breaking" is from a client's side: a client written against the
 * reconstructed contract may fail against G-REX as it is.
 */
export type Impact = 'breaking' | 'non-breaking';

export type Direction = 'request' | 'response';

export type DifferenceKind =
  /** An operation (method and path) of the contract that G-REX does not have, or the other way round. */
  | 'operation-missing'
  | 'operation-added'
  /** A token where the contract says anonymous, or none where it asks for one. */
  | 'security'
  | 'parameter-missing'
  | 'parameter-added'
  | 'parameter-required'
  /** A body field (request or response). */
  | 'field-missing'
  | 'field-added'
  | 'field-renamed'
  | 'field-required'
  | 'type'
  | 'enum-value-missing'
  | 'enum-value-added'
  /** A value the contract's constraints refuse (pattern, format, bounds): answers only. */
  | 'constraint'
  | 'status-missing'
  | 'status-added'
  /** The manual's `responseCode` values listed for a status. */
  | 'response-code-missing'
  | 'response-code-added'
  | 'media-type'
  | 'body-not-json';

export interface DifferenceInput {
  kind: DifferenceKind;
  direction?: Direction;
  /** `request body`, `response 200`, `parameter` (no prefix when absent). */
  where?: string;
  /** The HTTP status concerned (responses, status and code kinds). */
  status?: string;
  /** A field as `bundles[].startCertificateId`, a parameter's name, a code. */
  field?: string;
  /** What the contract says and what G-REX says or does: a type, a name, a value. */
  ours?: string;
  theirs?: string;
  /** Required on the side that has it (missing and added fields and parameters). */
  required?: boolean;
  /** Free text the kind's sentence ends with (the documented list, a parser's message). */
  detail?: string;
}

export interface Difference extends DifferenceInput {
  impact: Impact;
  /** The sentence, `where: ...`, the same in the diff, the drift report and the grader. */
  text: string;
}

const success = (status: string | undefined): boolean => /^2/.test(status ?? '');

/** Whether a client written against the contract may fail: the one place the classes are decided. */
export function impactOf(input: DifferenceInput): Impact {
  const response = input.direction === 'response';
  const breaking = ((): boolean => {
    switch (input.kind) {
      case 'operation-missing':
      case 'field-renamed':
      case 'type':
      case 'constraint':
      case 'media-type':
      case 'body-not-json':
      case 'parameter-missing':
        return true;
      case 'operation-added':
        return false;
      case 'security':
        // G-REX asks for a token the contract does not: a client sends none.
        return input.theirs === 'token';
      case 'parameter-added':
        return input.required === true;
      case 'parameter-required':
        return input.theirs === 'required';
      case 'field-missing':
        // A request field G-REX does not take is lost; an answer's field a client reads is missing when the contract requires it.
        return response ? input.required === true : true;
      case 'field-added':
        return response ? false : input.required === true;
      case 'field-required':
        return response ? input.theirs === 'optional' : input.theirs === 'required';
      case 'enum-value-missing':
        return !response;
      case 'enum-value-added':
        return response;
      case 'status-missing':
      case 'status-added':
      case 'response-code-missing':
      case 'response-code-added':
        // A success answered otherwise changes what a client takes as done; an error status it does not expect is still an error.
        return success(input.status);
    }
  })();
  return breaking ? 'breaking' : 'non-breaking';
}

const quoted = (value: string | undefined): string => JSON.stringify(value ?? '');

function sentence(input: DifferenceInput): string {
  const { field, ours, theirs, detail } = input;
  const documented = detail ? ` (documented: ${detail})` : '';
  switch (input.kind) {
    case 'operation-missing':
      return "in the contract, not in G-REX's document";
    case 'operation-added':
      return 'in G-REX, not in the contract';
    case 'security':
      return theirs === 'token' ? 'G-REX asks for a token; the contract says anonymous' : 'G-REX takes no token; the contract asks for one';
    case 'parameter-missing':
      return `${field} is in the contract, not in G-REX's document`;
    case 'parameter-added':
      return `${field} is not in the contract${input.required ? ' (G-REX requires it)' : ''}`;
    case 'parameter-required':
    case 'field-required':
      return `${field} is ${theirs} in G-REX, ${ours} in the contract`;
    case 'field-missing':
      return `${field} is ${input.required ? 'required by' : 'in'} the contract but missing`;
    case 'field-added':
      return `${field} is not in the contract${input.required ? ' (G-REX requires it)' : ''}`;
    case 'field-renamed':
      return `${theirs} is ${ours} in the contract (renamed)`;
    case 'type':
      return `${field} is ${theirs}, the contract says ${ours}`;
    case 'enum-value-missing':
      return `${field} value ${quoted(ours)} is in the contract, not in G-REX`;
    case 'enum-value-added':
      return `${field} value ${quoted(theirs)} is not in the contract`;
    case 'constraint':
      return `${field} ${detail ?? 'breaks the contract'}`;
    case 'status-missing':
      return `status ${input.status} is in the contract, not in G-REX`;
    case 'status-added':
      return `status ${input.status} is not in the contract${documented}`;
    case 'response-code-missing':
      return `responseCode ${ours} is in the contract, not in G-REX`;
    case 'response-code-added':
      return `responseCode ${theirs} is not in the contract${documented}`;
    case 'media-type':
      return `Content-Type ${quoted(theirs || '(none)')} is not in the contract${documented}`;
    case 'body-not-json':
      return `the body is not valid JSON (${detail})`;
  }
}

/** A finding, classed and worded. */
export function difference(input: DifferenceInput): Difference {
  const text = sentence(input);
  return { ...input, impact: impactOf(input), text: input.where ? `${input.where}: ${text}` : text };
}
