/** What every command gets: output channels and the global flags. */
export interface CommandContext {
  readonly json: boolean;
  /** --verbose: also print the function's event trace (run, replay, fuzz, serve). */
  readonly verbose: boolean;
  out(line: string): void;
  err(line: string): void;
  readonly stderr: NodeJS.WriteStream;
}
