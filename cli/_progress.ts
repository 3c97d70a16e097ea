/**
 * A one-line progress bar for long commands (`replay`, `decode`): drawn on
 * standard error only when it is a terminal, only once the work has taken
 * longer than a delay (1 s by default), redrawn at most ten times a second,
 * and erased when done, so short runs and redirected output stay clean.
 *
 * @module
 */

/** Where the bar is drawn: standard error, or a test double. */
export interface ProgressOutput {
  /** Writes bytes; returns how many were written. */
  writeSync(p: Uint8Array): number;
  /** Whether the output is a terminal (no bar otherwise). */
  isTerminal(): boolean;
}

/**
 * Options of {@linkcode ProgressBar}.
 *
 * @example
 * ```ts
 * import type { ProgressOptions } from "./_progress.ts";
 * import assert from "node:assert/strict";
 * const options: ProgressOptions = { total: 1 << 20, label: "replay", delay: 0 };
 * assert.equal(options.delay, 0);
 * ```
 */
export interface ProgressOptions {
  /** The amount of work (e.g. the file size in bytes); 0 or less if unknown. */
  readonly total: number;
  /** Text before the bar. */
  readonly label?: string;
  /** Where to draw (default `Deno.stderr`). */
  readonly output?: ProgressOutput;
  /** Milliseconds before the bar first shows (default 1000). */
  readonly delay?: number;
  /** Milliseconds between redraws (default 100). */
  readonly interval?: number;
  /** A millisecond clock (default `performance.now`). */
  readonly now?: () => number;
  /** Width of the bar in cells (default 30). */
  readonly width?: number;
}

const encoder = new TextEncoder();

/**
 * A progress bar; call {@linkcode update} as work advances and
 * {@linkcode done} at the end (always: it erases the line).
 *
 * @example
 * ```ts
 * import { ProgressBar } from "./_progress.ts";
 * import assert from "node:assert/strict";
 * let text = "";
 * let t = 0;
 * const output = {
 *   writeSync: (p: Uint8Array) => (text += new TextDecoder().decode(p), p.length),
 *   isTerminal: () => true,
 * };
 * const bar = new ProgressBar({ total: 100, label: "replay", output, now: () => t, width: 10 });
 * bar.update(10);
 * assert.equal(text, ""); // not before the delay
 * t = 1500;
 * bar.update(50, "500 packets");
 * assert.match(text, /replay \[#####     \]  50% 500 packets/);
 * bar.done();
 * assert.ok(text.endsWith("\r\x1b[2K"));
 * ```
 */
export class ProgressBar {
  readonly #total: number;
  readonly #label: string;
  readonly #out: ProgressOutput | null;
  readonly #delay: number;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #width: number;
  readonly #start: number;
  #last = -Infinity;
  #shown = false;

  /** Starts timing; nothing is drawn yet. */
  constructor(options: ProgressOptions) {
    this.#total = options.total;
    this.#label = options.label ?? "";
    const out = options.output ?? Deno.stderr;
    let terminal = false;
    try {
      terminal = out.isTerminal();
    } catch {
      terminal = false;
    }
    this.#out = terminal ? out : null;
    this.#delay = options.delay ?? 1000;
    this.#interval = options.interval ?? 100;
    this.#now = options.now ?? (() => performance.now());
    this.#width = Math.max(1, options.width ?? 30);
    this.#start = this.#now();
  }

  /** Whether the bar has been drawn. */
  get shown(): boolean {
    return this.#shown;
  }

  /** Reports `done` units of work (and a short detail); redraws when due. */
  update(done: number, detail = ""): void {
    if (this.#out === null) return;
    const t = this.#now();
    if (t - this.#start < this.#delay || t - this.#last < this.#interval) return;
    this.#last = t;
    let line = this.#label === "" ? "" : `${this.#label} `;
    if (this.#total > 0) {
      const f = Math.min(1, Math.max(0, done / this.#total));
      const cells = Math.round(f * this.#width);
      line += `[${"#".repeat(cells)}${" ".repeat(this.#width - cells)}] ${
        String(Math.floor(f * 100)).padStart(3)
      }%`;
    }
    if (detail !== "") line += ` ${detail}`;
    this.#write(`\r\x1b[2K${line}`);
    this.#shown = true;
  }

  /** Erases the bar if it was drawn. */
  done(): void {
    if (this.#shown) this.#write("\r\x1b[2K");
    this.#shown = false;
  }

  #write(s: string): void {
    try {
      const bytes = encoder.encode(s);
      for (let off = 0; off < bytes.length;) off += this.#out!.writeSync(bytes.subarray(off));
    } catch {
      // A progress bar must never break the command (a closed terminal).
    }
  }
}
