#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { isUserError } from '../../host/user-error.js';
import { BENCH_HELP, benchCommand } from './bench-command.js';
import type { CommandContext } from './command.js';
import { COMPARE_HELP, compareCommand } from './compare-command.js';
/**
 * The `epfsim` command: a subcommand dispatcher over node:util parseArgs. User mistakes
 * (flags, profile files, case files) print one line and exit 2; never a stack trace.
 */
import { loadFlagPlugins } from './flag-plugins.js';
import { FUZZ_HELP, fuzzCommand } from './fuzz-command.js';
import { PROFILES_HELP, profilesCommand } from './profiles-command.js';
import { REPLAY_HELP, replayCommand } from './replay-command.js';
import { RUN_HELP, runCommand } from './run-command.js';
import { SERVE_HELP, serveCommand } from './serve-command.js';
import { EXIT_OK, USAGE_EXIT_CODE } from './usage-error.js';

interface Command {
  readonly summary: string;
  readonly help: string;
  /** Whether it takes --verbose (the function's event trace): the commands that drive the in-process function. */
  readonly verbose?: true;
  run(ctx: CommandContext, args: readonly string[]): number | Promise<number>;
}

/** The package this CLI ships in: its version is the product's. */
const PACKAGE_JSON = new URL('../../../package.json', import.meta.url);
/** A flag followed by a negative number (`--size -1`): parseArgs would take `-1` for a flag. */
const NEGATIVE_NUMBER = /^-\d/;

const COMMANDS: Record<string, Command> = {
  bench: { summary: "benchmark figures against the machine's raw copy rate", help: BENCH_HELP, run: benchCommand },
  compare: {
    summary: 'every strategy on every profile: failures, map costs, report.html',
    help: COMPARE_HELP,
    run: compareCommand,
  },
  fuzz: {
    summary: 'fuzz host addresses; shrink a failure into a case file',
    help: FUZZ_HELP,
    verbose: true,
    run: fuzzCommand,
  },
  profiles: { summary: 'list or describe controller profiles', help: PROFILES_HELP, run: profilesCommand },
  replay: {
    summary: 'replay a case file and check its expectations',
    help: REPLAY_HELP,
    verbose: true,
    run: replayCommand,
  },
  run: {
    summary: 'run a verified NVMe workload (fio terms) or replay a trace',
    help: RUN_HELP,
    verbose: true,
    run: runCommand,
  },
  serve: {
    summary: 'serve the simulated namespace over NBD to fio, nbdcopy, qemu-img',
    help: SERVE_HELP,
    verbose: true,
    run: serveCommand,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const list = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'usage: epfsim <command> [options]   (epfsim help <command>, or epfsim <command> --help, for more)',
    '       epfsim --version',
    '',
    'commands:',
    ...list,
  ].join('\n');
}

/** The product's version, from the package it ships in. */
function version(): string {
  return (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;
}

/** `--size -1` as `--size=-1`, so that a negative number reaches the flag's own check and its one-line message. */
function joinNegativeValues(args: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (arg.startsWith('--') && !arg.includes('=') && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  const json = rest.includes('--json') || name === '--json';
  const verbose = rest.includes('--verbose');
  const ctx: CommandContext = {
    json,
    verbose,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    stderr: process.stderr,
  };
  if (name === '--version' || name === '-V' || (name === '--json' && rest.includes('--version'))) {
    ctx.out(json ? JSON.stringify({ name: 'epfsim', version: version() }) : `epfsim ${version()}`);
    return EXIT_OK;
  }
  if (name === undefined || name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    ctx.out(usage());
    return name === undefined ? USAGE_EXIT_CODE : EXIT_OK;
  }
  if (name === 'help') {
    const topic = COMMANDS[rest[0]!];
    if (topic === undefined) {
      ctx.err(`epfsim help: unknown command '${rest[0]}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
      return USAGE_EXIT_CODE;
    }
    ctx.out(topic.help);
    return EXIT_OK;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    ctx.err(`epfsim: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return USAGE_EXIT_CODE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.out(command.help);
    return EXIT_OK;
  }
  // --verbose stays in the arguments of a command that does not take it: its parser refuses it.
  const global = (a: string) => a === '--json' || (a === '--verbose' && command.verbose === true);
  try {
    return await command.run(ctx, await loadFlagPlugins(joinNegativeValues(rest.filter((a) => !global(a)))));
  } catch (error) {
    if (isUserError(error) || isParseArgsError(error)) {
      // parseArgs explains over several lines; the user gets one.
      ctx.err(`epfsim ${name}: ${(error as Error).message.split('\n').join(' ')}`);
      return USAGE_EXIT_CODE;
    }
    throw error;
  }
}

/** node:util parseArgs reports unknown or malformed flags with these codes. */
function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

// A reader that stops early (`epfsim … | head`) closes the pipe: that ends the output, quietly, as
// for any Unix command, instead of an unhandled EPIPE with a stack.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // A bug of ours, not the user's: show everything.
    console.error(error);
    process.exitCode = 70;
  },
);
