/**
 * A small structured logger. The library prints nothing by itself except
 * through the sink the user installs (`cli.ts` installs one that prints).
 *
 * @module
 */

/** Severity, most verbose first. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** One log line. */
export interface LogRecord {
  /** Severity. */
  readonly level: LogLevel;
  /** Who logged it (a plugin name, `dispatcher`, a driver). */
  readonly source: string;
  /** The message. */
  readonly message: string;
  /** Stack time in microseconds. */
  readonly time: number;
}

/** Where log records go. */
export type LogSink = (record: LogRecord) => void;

/** A logger bound to one source. */
export interface Logger {
  /** Whether `level` would be written (skip building messages when not). */
  enabled(level: LogLevel): boolean;
  /** Logs a debug line. */
  debug(message: string): void;
  /** Logs an info line. */
  info(message: string): void;
  /** Logs a warning. */
  warn(message: string): void;
  /** Logs an error. */
  error(message: string): void;
}

/**
 * Shared log state of one stack: sink and level.
 *
 * @example
 * ```ts
 * import { LogHub, type LogRecord } from "./log.ts";
 * import assert from "node:assert/strict";
 * const lines: LogRecord[] = [];
 * const hub = new LogHub((r) => lines.push(r), "warn", () => 42);
 * const log = hub.logger("ipv4");
 * log.info("hidden");
 * log.error("shown");
 * assert.deepEqual(lines, [{ level: "error", source: "ipv4", message: "shown", time: 42 }]);
 * hub.sink = () => { throw new Error("broken sink"); };
 * log.error("lost, not thrown");
 * assert.equal(hub.sinkErrors, 1);
 * ```
 */
export class LogHub {
  /** The sink, or null to drop everything. */
  sink: LogSink | null;
  /** Lines lost because the sink threw. */
  sinkErrors = 0;
  #min: number;
  readonly #now: () => number;
  /** Creates a hub writing at `level` or above to `sink`. */
  constructor(sink: LogSink | null, level: LogLevel, now: () => number) {
    this.sink = sink;
    this.#min = RANK[level];
    this.#now = now;
  }
  /** Changes the minimum level. */
  setLevel(level: LogLevel): void {
    this.#min = RANK[level];
  }
  /** A logger for `source`. */
  logger(source: string): Logger {
    return new SourceLogger(this, source);
  }
  /** @internal Writes one line from `source` (the loggers' shared path). */
  write(level: LogLevel, source: string, message: string): void {
    const sink = this.sink;
    if (sink !== null && RANK[level] >= this.#min) {
      // A throwing sink must not turn a logged fault into a thrown one (the
      // dispatcher logs from its catch blocks): the line is lost instead.
      try {
        sink({ level, source, message, time: this.#now() });
      } catch {
        this.sinkErrors++;
      }
    }
  }
  /** @internal Whether `level` would be written. */
  enabled(level: LogLevel): boolean {
    return this.sink !== null && RANK[level] >= this.#min;
  }
}

/**
 * One source's logger: two fields and prototype methods, not five closures
 * (every plugin of every stack has one; issue 19's memory per host).
 */
class SourceLogger implements Logger {
  readonly #hub: LogHub;
  readonly #source: string;
  constructor(hub: LogHub, source: string) {
    this.#hub = hub;
    this.#source = source;
  }
  enabled(level: LogLevel): boolean {
    return this.#hub.enabled(level);
  }
  debug(message: string): void {
    this.#hub.write("debug", this.#source, message);
  }
  info(message: string): void {
    this.#hub.write("info", this.#source, message);
  }
  warn(message: string): void {
    this.#hub.write("warn", this.#source, message);
  }
  error(message: string): void {
    this.#hub.write("error", this.#source, message);
  }
}
