import { parseArgs } from 'node:util';

/**
 * The command line's commands as declarations: a command names its flags
 * (each with its help and its check), its exit codes and what it runs. From
 * that one declaration come the strict parsing (an unknown flag or a bad value
 * is one line on stderr and exit 2), `grex-harness <command> --help`, and the
 * command's part of `grex-harness help`.
 */
export interface Flag<T> {
  /** How the value reads in help (`N`, `F`, `on|off`); none for a switch. */
  placeholder?: string;
  /** Lines of help; the first follows the flag. */
  help: string;
  multiple?: boolean;
  /** Read from this environment variable when the flag is absent. */
  env?: string;
  /** The value, or why it is refused ("must be ..."), from the text given (undefined when absent). */
  read(text: string | string[] | boolean | undefined): T | Refusal;
}

export class Refusal {
  constructor(readonly reason: string) {}
}

export type Values<F> = { [K in keyof F]: F[K] extends Flag<infer T> ? T : never };

export interface CommandSpec<F extends Record<string, Flag<unknown>>> {
  name: string;
  /** Lines for the command list of `grex-harness help`. */
  summary: string;
  /** The usage line after `grex-harness <name>`, when it is more than `[options]`. */
  usage?: string;
  flags: F;
  /** Takes arguments besides its flags (`grade <journal>`); without, any is refused. */
  positionals?: boolean;
  /** Takes a command after `--` (`certify -- <command>`), handed over untouched. */
  passThrough?: boolean;
  /** Exit codes and what each means. */
  exits: [number, string][];
  /** More help after the flags. */
  notes?: string;
  run(values: Values<F>, extra: { positionals: string[]; passThrough: string[] }): number | Promise<number>;
}

export type Command = CommandSpec<Record<string, Flag<unknown>>>;

export function command<F extends Record<string, Flag<unknown>>>(spec: CommandSpec<F>): Command {
  return spec as unknown as Command;
}

interface Range {
  min: number;
  max: number;
}

/** Flag kinds. A fallback is the value when the flag is absent (shown by the help text itself). */
export const flag = {
  text: ((placeholder: string, help: string, fallback?: string, env?: string): Flag<string | undefined> => ({ placeholder, help, env, read: (text) => (typeof text === 'string' ? text : fallback) })) as {
    (placeholder: string, help: string, fallback: string, env?: string): Flag<string>;
    (placeholder: string, help: string): Flag<string | undefined>;
  },
  required(placeholder: string, help: string, what: string): Flag<string> {
    return { placeholder, help, read: (text) => (typeof text === 'string' ? text : new Refusal(`is required: ${what}`)) };
  },
  switch(help: string): Flag<boolean> {
    return { help, read: (text) => text === true };
  },
  repeated(placeholder: string, help: string): Flag<string[]> {
    return { placeholder, help, multiple: true, read: (text) => (Array.isArray(text) ? text : []) };
  },
  choice<const C extends string>(placeholder: string, help: string, choices: readonly C[], fallback: C): Flag<C> {
    return {
      placeholder,
      help,
      read: (text) => {
        const value = typeof text === 'string' ? text : fallback;
        return (choices as readonly string[]).includes(value) ? (value as C) : new Refusal(`must be ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`);
      },
    };
  },
  /** `on` or `off`, as a boolean. */
  onOff(help: string, fallback: boolean): Flag<boolean> {
    return { placeholder: 'on|off', help, read: (text) => (text === undefined ? fallback : text === 'on' ? true : text === 'off' ? false : new Refusal('must be on or off')) };
  },
  integer: ((placeholder: string, help: string, range: Range & { fallback?: number; env?: string }): Flag<number | undefined> => ({
    placeholder,
    help,
    env: range.env,
    read: (text) => {
      if (text === undefined) return range.fallback;
      // Decimal digits only: Number() would also read 0x10, 1e3 and " 80".
      const value = typeof text === 'string' && /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
      return Number.isInteger(value) && value >= range.min && value <= range.max ? value : new Refusal(`must be an integer from ${range.min} to ${range.max}`);
    },
  })) as {
    (placeholder: string, help: string, range: Range & { fallback: number; env?: string }): Flag<number>;
    (placeholder: string, help: string, range: Range & { env?: string }): Flag<number | undefined>;
  },
  seconds(help: string, range: Range & { fallback: number }): Flag<number> {
    return {
      placeholder: 'S',
      help,
      read: (text) => {
        if (text === undefined) return range.fallback;
        const value = typeof text === 'string' && /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
        return value >= range.min && value <= range.max ? value : new Refusal(`must be a number of seconds from ${range.min} to ${range.max}`);
      },
    };
  },
};

/** What the mock and the proxy print and log: `--log text|json`. */
export const logFlag = flag.choice(
  'text|json',
  'text (default): the banner on stdout; json: one JSON\nobject a line on stdout (start, every exchange, shutdown\nwith refusals by stage), the banner on stderr',
  ['text', 'json'],
  'text',
);

const FLAG_COLUMN = 18;

function flagLines(name: string, spec: Flag<unknown>, indent: string): string[] {
  const label = `--${name}${spec.placeholder ? ` ${spec.placeholder}` : ''}`;
  const [first, ...more] = spec.help.split('\n');
  const head = label.length < FLAG_COLUMN ? `${indent}${label.padEnd(FLAG_COLUMN)}${first}` : `${indent}${label}  ${first}`;
  return [head, ...more.map((line) => `${indent}${' '.repeat(FLAG_COLUMN)}${line}`)];
}

/** The command's part of `grex-harness help`: its summary and flags under its name. */
export function listing(cmd: Command): string {
  const [first, ...more] = cmd.summary.split('\n');
  // A name of two words (`contracts pull`) does not fit the column: it stands on its own line.
  const head = cmd.name.length < 10 ? [`  ${cmd.name.padEnd(10)}${first}`] : [`  ${cmd.name}`, `            ${first}`];
  const lines = [...head, ...more.map((line) => `            ${line}`)];
  for (const [name, spec] of Object.entries(cmd.flags)) lines.push(...flagLines(name, spec, '              '));
  return `${lines.join('\n')}\n`;
}

/** `grex-harness <command> --help`. */
export function commandHelp(cmd: Command): string {
  const usage = `grex-harness ${cmd.name} ${cmd.usage ?? '[options]'}`;
  const lines = [`Usage: ${usage}`, '', ...cmd.summary.split('\n'), '', 'Options:'];
  for (const [name, spec] of Object.entries(cmd.flags)) lines.push(...flagLines(name, spec, '  '));
  lines.push(...flagLines('help', { help: 'show this text', read: () => true }, '  '));
  if (cmd.notes) lines.push('', ...cmd.notes.split('\n'));
  lines.push('', 'Exit codes:', ...cmd.exits.map(([code, meaning]) => `  ${code}  ${meaning.split('\n').join('\n     ')}`));
  return `${lines.join('\n')}\n`;
}

/** The nearest known flag to a mistyped one, if any is near. */
function nearest(word: string, names: string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0];
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const kept = row[j];
        row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = kept;
      }
    }
    return row[b.length];
  };
  const scored = names.map((name) => ({ name, score: distance(word, name) })).sort((a, b) => a.score - b.score);
  return scored[0] && scored[0].score <= Math.max(2, Math.floor(word.length / 3)) ? scored[0].name : undefined;
}

/** Parses, checks and runs a command; usage errors are one line on stderr and exit 2. */
export async function runCommand(cmd: Command, args: string[]): Promise<number> {
  const split = cmd.passThrough ? args.indexOf('--') : -1;
  const own = split < 0 ? args : args.slice(0, split);
  const passThrough = split < 0 ? [] : args.slice(split + 1);
  const fail = (message: string): number => {
    process.stderr.write(`grex-harness ${cmd.name}: ${message}\n`);
    return 2;
  };
  if (own.includes('--help') || own.includes('-h')) {
    process.stdout.write(commandHelp(cmd));
    return 0;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    const options = Object.fromEntries(Object.entries(cmd.flags).map(([name, spec]) => [name, { type: spec.placeholder ? ('string' as const) : ('boolean' as const), multiple: spec.multiple ?? false }]));
    parsed = parseArgs({ args: own, options, allowPositionals: cmd.positionals ?? false, strict: true });
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (!code?.startsWith('ERR_PARSE_ARGS_')) throw error;
    // `--port -1`: parseArgs takes -1 for a flag, not the value, and calls it "ambiguous".
    const ambiguous = /^Option '(--[\w-]+)' argument is ambiguous/.exec(message)?.[1];
    if (ambiguous) {
      const next = own[own.indexOf(ambiguous) + 1];
      return fail(`${ambiguous} has no value before "${next}"${next.startsWith('--') ? '' : ` (a value that starts with a dash is written ${ambiguous}=${next})`}`);
    }
    const unknown = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(-{1,2}[^']+)'/.exec(message)?.[1] : undefined;
    const guess = unknown ? nearest(unknown.replace(/^-+/, ''), Object.keys(cmd.flags)) : undefined;
    return fail(`${message.split(/\.\s|\n/)[0].replace(/\.$/, '')}${guess ? ` (did you mean --${guess}?)` : ''}; grex-harness ${cmd.name} --help lists the flags`);
  }
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(cmd.flags)) {
    const given = parsed.values[name] as string | string[] | boolean | undefined;
    const fromEnv = given === undefined && spec.env ? process.env[spec.env] : undefined;
    const value = spec.read(given ?? fromEnv);
    if (value instanceof Refusal) {
      const text = given ?? fromEnv;
      return fail(`${fromEnv === undefined ? `--${name}` : `${spec.env} (for --${name})`} ${value.reason}${text === undefined ? '' : `, got "${String(text)}"`}`);
    }
    values[name] = value;
  }
  return cmd.run(values, { positionals: parsed.positionals, passThrough });
}
