/**
 * The congestion controls one TCP instance knows: the built-ins, and those
 * plugins register through the `tcp.congestion` service (Linux's
 * `tcp_register_congestion_control`).
 *
 * @module
 */
import {
  CONGESTION_CONTROLS,
  type CongestionControl,
  type CongestionFactory,
  type CongestionOptions,
  createCongestionControl,
} from "./mod.ts";
import { EMPTY_MAP } from "../../../_shared_empty.ts";

/** Names a plugin may register: lowercase letters, digits, `_` and `-`, 1 to 16 characters. */
const NAME = /^[a-z][a-z0-9_-]{0,15}$/;

/**
 * The `tcp.congestion` service: registers more congestion controls by name,
 * which `connect({ congestionControl })`, `setCongestionControl()` and the
 * plugin's `congestionControl` option then accept.
 *
 * @example
 * ```ts
 * import { CongestionRegistry } from "./registry.ts";
 * import { NewReno } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const reg = new CongestionRegistry();
 * reg.register("fixed", (mss, iw) => new NewReno(mss, iw, { hystart: false }));
 * assert.ok(reg.has("fixed") && reg.has("cubic") && reg.has("reno"));
 * assert.equal(reg.create("fixed", 1000, 10).cwnd, 10_000);
 * assert.throws(() => reg.register("cubic", (m, i) => new NewReno(m, i)), TypeError);
 * ```
 */
export class CongestionRegistry {
  /** The shared empty map until a registration (most stacks have none). */
  #extra: Map<string, CongestionFactory> = EMPTY_MAP;

  /**
   * Adds `name`.
   *
   * @throws {TypeError} A name that is not lowercase `[a-z][a-z0-9_-]*` (at
   * most 16 characters), is taken, or a factory that is not a function.
   */
  register(name: string, factory: CongestionFactory): void {
    if (typeof name !== "string" || !NAME.test(name)) {
      throw new TypeError(`Cannot register congestion control "${String(name)}": bad name`);
    }
    if (this.has(name)) {
      throw new TypeError(`Cannot register congestion control "${name}": already registered`);
    }
    if (typeof factory !== "function") {
      throw new TypeError(`Cannot register congestion control "${name}": not a function`);
    }
    if (this.#extra === EMPTY_MAP) this.#extra = new Map();
    this.#extra.set(name, factory);
  }

  /** Whether `name` is known (`reno` is NewReno's other name). */
  has(name: string): boolean {
    return CONGESTION_CONTROLS.includes(name) || name === "reno" || this.#extra.has(name);
  }

  /** Every name known, built-ins first. */
  names(): string[] {
    return [...CONGESTION_CONTROLS, ...this.#extra.keys()];
  }

  /**
   * A new instance of `name`.
   *
   * @throws {TypeError} For an unknown name.
   */
  create(
    name: string,
    mss: number,
    initialSegments: number,
    options: CongestionOptions = {},
  ): CongestionControl {
    const f = this.#extra.get(name);
    return f !== undefined
      ? f(mss, initialSegments, options)
      : createCongestionControl(name, mss, initialSegments, options);
  }
}
