#!/usr/bin/env node
// The `epfsim` command as npm links it. npm creates a workspace's bin link at install time only
// when its target exists, and dist/ is built after `npm ci`: this committed launcher always
// exists and runs the built CLI, or says in one line how to build it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BUILT_CLI = new URL('../dist/front/cli/main.js', import.meta.url);
/** Exit code for a usage problem (the CLI's USAGE_EXIT_CODE). */
const NOT_BUILT_EXIT_CODE = 2;

if (existsSync(fileURLToPath(BUILT_CLI))) {
  await import(BUILT_CLI.href);
} else {
  process.stderr.write(
    'epfsim: the command is not built yet: run `npm run build` (or `npm start`) in the repository\n',
  );
  process.exitCode = NOT_BUILT_EXIT_CODE;
}
