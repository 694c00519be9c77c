/**
 * Progress for long work: on a terminal, one status line redrawn at most 10 times a
 * second; otherwise (CI, pipes) a plain line every `intervalMs`. Silent under --json,
 * where the final result is the only output on stdout.
 */
export interface ProgressSink {
  update(line: () => string): void;
  done(): void;
}

export interface ProgressOptions {
  readonly stream: NodeJS.WriteStream;
  readonly enabled: boolean;
  readonly intervalMs?: number;
  readonly now?: () => number;
}

const TTY_REDRAW_MS = 100;
const PLAIN_INTERVAL_MS = 5000;

export function createProgress(options: ProgressOptions): ProgressSink {
  const now = options.now ?? (() => performance.now());
  const tty = options.stream.isTTY === true;
  const interval = tty ? TTY_REDRAW_MS : (options.intervalMs ?? PLAIN_INTERVAL_MS);
  let last = now();
  let drawn = false;
  return {
    update(line) {
      if (!options.enabled) return;
      const t = now();
      if (t - last < interval) return;
      last = t;
      if (tty) {
        options.stream.write(`\r\x1b[2K${line()}`);
        drawn = true;
      } else {
        options.stream.write(`${line()}\n`);
      }
    },
    done() {
      if (drawn) options.stream.write('\r\x1b[2K');
      drawn = false;
    },
  };
}
