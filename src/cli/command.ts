import type { ParseArgsConfig } from 'node:util';
import type { CliContext } from './context';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  /** Everything after `--`, untouched (qm exec). */
  rest: string[];
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpecs;
  run(context: CliContext, args: ParsedArgs): Promise<number>;
}
