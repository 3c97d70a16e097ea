/**
 * `--name value` flags of the benchmark scripts.
 *
 * @module
 */

/** The flags of `args`; {@linkcode BenchFlags.done} refuses any left unread. */
export class BenchFlags {
  readonly #flags = new Map<string, string>();

  /** @throws {TypeError} On an argument that is not `--name value`. */
  constructor(args: readonly string[]) {
    for (let i = 0; i < args.length; i += 2) {
      const k = args[i]!, v = args[i + 1];
      if (!k.startsWith("--") || v === undefined) {
        throw new TypeError(`Cannot read argument "${k}"`);
      }
      this.#flags.set(k.slice(2), v);
    }
  }

  /**
   * The whole number `--k` (default `d`), at least `min`.
   * @throws {TypeError} When it is not a whole number.
   * @throws {RangeError} When it is below `min`.
   */
  num(k: string, d: number, min: number): number {
    const v = this.#flags.has(k) ? Number(this.#flags.get(k)) : d;
    if (!Number.isFinite(v) || !Number.isInteger(v)) {
      throw new TypeError(`--${k}: not a whole number`);
    }
    if (v < min) throw new RangeError(`--${k}: must be at least ${min}`);
    this.#flags.delete(k);
    return v;
  }

  /** The text of `--k`, or undefined. */
  str(k: string): string | undefined {
    const v = this.#flags.get(k);
    this.#flags.delete(k);
    return v;
  }

  /** @throws {TypeError} When a flag was given that nothing read. */
  done(): void {
    const left = [...this.#flags.keys()];
    if (left.length > 0) throw new TypeError(`Unknown flag --${left[0]}`);
  }
}
