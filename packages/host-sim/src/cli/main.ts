#!/usr/bin/env node
/**
 * The `epfsim` command: a subcommand dispatcher over node:util parseArgs. User mistakes
 * (flags, profile files, case files) print one line and exit 2; never a stack trace.
 */
import { BENCH_HELP, benchCommand } from './bench-command.js';
import type { CommandContext } from './command.js';
import { COMPARE_HELP, compareCommand } from './compare-command.js';
import { isUserConfigError } from './config-errors.js';
import { FUZZ_HELP, fuzzCommand } from './fuzz-command.js';
import { PROFILES_HELP, profilesCommand } from './profiles-command.js';
import { REPLAY_HELP, replayCommand } from './replay-command.js';
import { RUN_HELP, runCommand } from './run-command.js';
import { SERVE_HELP, serveCommand } from './serve-command.js';
import { USAGE_EXIT_CODE, UsageError } from './usage-error.js';

interface Command {
  readonly summary: string;
  readonly help: string;
  run(ctx: CommandContext, args: readonly string[]): number | Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  bench: { summary: "benchmark figures against the machine's raw copy rate", help: BENCH_HELP, run: benchCommand },
  compare: {
    summary: 'every strategy on every profile: failures, map costs, report.html',
    help: COMPARE_HELP,
    run: compareCommand,
  },
  fuzz: { summary: 'fuzz host addresses; shrink a failure into a case file', help: FUZZ_HELP, run: fuzzCommand },
  profiles: { summary: 'list or describe controller profiles', help: PROFILES_HELP, run: profilesCommand },
  replay: { summary: 'replay a case file and check its expectations', help: REPLAY_HELP, run: replayCommand },
  run: { summary: 'run a verified NVMe workload (fio terms) or replay a trace', help: RUN_HELP, run: runCommand },
  serve: {
    summary: 'serve the simulated namespace over NBD to fio, nbdcopy, qemu-img',
    help: SERVE_HELP,
    run: serveCommand,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const list = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ['usage: epfsim <command> [options]   (epfsim <command> --help for more)', '', 'commands:', ...list].join(
    '\n',
  );
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  const json = rest.includes('--json');
  const ctx: CommandContext = {
    json,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    stderr: process.stderr,
  };
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    ctx.out(usage());
    return name === undefined ? USAGE_EXIT_CODE : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    ctx.err(`epfsim: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return USAGE_EXIT_CODE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.out(command.help);
    return 0;
  }
  try {
    return await command.run(
      ctx,
      rest.filter((a) => a !== '--json'),
    );
  } catch (error) {
    if (error instanceof UsageError || isUserConfigError(error) || isParseArgsError(error)) {
      ctx.err(`epfsim ${name}: ${(error as Error).message}`);
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
