// The harness log: every line goes to harness.log (when a run has one) with a timestamp, and to the terminal.
// A live status line (ora) sits below the log lines on a TTY; elsewhere, status lines are printed sparingly.
import { appendFileSync } from 'node:fs';
import ora, { type Ora } from 'ora';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  /** Only to the log file. */
  debug(message: string): void;
  /** Shows a live status (replaced on each call); null clears it. */
  status(text: string | null): void;
}

export class ConsoleLogger implements Logger {
  private spinner: Ora | undefined;
  private lastPlainStatus = 0;
  private readonly interactive: boolean;

  constructor(private readonly quiet = false) {
    this.interactive = Boolean(process.stderr.isTTY) && !process.env.CI;
  }

  private write(level: string, message: string, toTerminal: boolean): void {
    if (!toTerminal || this.quiet) return;
    const line = level === 'WARN' ? `warning: ${message}` : level === 'DEBUG' ? `debug: ${message}` : message;
    if (this.spinner) this.spinner.clear();
    process.stderr.write(line + '\n');
    if (this.spinner) this.spinner.render();
  }

  info(message: string): void {
    this.write('INFO', message, true);
  }
  warn(message: string): void {
    this.write('WARN', message, true);
  }
  debug(message: string): void {
    // --debug shows them on the terminal too.
    this.write('DEBUG', message, process.env.FAULTLINE_DEBUG === '1');
  }

  status(text: string | null): void {
    if (this.quiet) return;
    if (!this.interactive) {
      // Without a TTY a spinner would flood the output: print the status every 10 s at most.
      const now = Date.now();
      if (text !== null && now - this.lastPlainStatus >= 10_000) {
        this.lastPlainStatus = now;
        process.stderr.write(`  ${text}\n`);
      }
      return;
    }
    if (text === null) {
      this.spinner?.stop();
      this.spinner = undefined;
      return;
    }
    if (!this.spinner) this.spinner = ora({ text, stream: process.stderr }).start();
    else this.spinner.text = text;
  }
}

/**
 * Writes every line, debug included, with a timestamp to a file (the run's harness.log), and passes it on. A write
 * that fails (a full or read-only disk) stops the file, never the run: the lines still reach the terminal.
 */
export class FileLogger implements Logger {
  /** The first error writing the file, if any. */
  failure: Error | undefined;

  constructor(
    private readonly inner: Logger,
    private readonly path: string,
  ) {}

  private append(level: string, message: string): void {
    if (this.failure) return;
    try {
      appendFileSync(this.path, `${new Date().toISOString()} ${level} ${message}\n`);
    } catch (err) {
      this.failure = err as Error;
    }
  }

  info(message: string): void {
    this.append('INFO', message);
    this.inner.info(message);
  }
  warn(message: string): void {
    this.append('WARN', message);
    this.inner.warn(message);
  }
  debug(message: string): void {
    this.append('DEBUG', message);
    this.inner.debug(message);
  }
  status(text: string | null): void {
    this.inner.status(text);
  }
}

/** A logger that keeps lines in memory: for tests and library use. */
export class MemoryLogger implements Logger {
  readonly lines: string[] = [];
  info(message: string): void {
    this.lines.push(message);
  }
  warn(message: string): void {
    this.lines.push(`warning: ${message}`);
  }
  debug(message: string): void {
    this.lines.push(message);
  }
  status(): void {}
}
