/** What every command gets: output channels and the global flags. */
export interface CommandContext {
  readonly json: boolean;
  out(line: string): void;
  err(line: string): void;
  readonly stderr: NodeJS.WriteStream;
}
