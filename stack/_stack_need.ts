/**
 * The one lookup `Stack`'s methods share: a service a loaded plugin must
 * provide, or `Deno.errors.NotSupported` naming what could not be done.
 * Private to `stack.ts` and its `_stack_*.ts` helpers.
 *
 * @module
 */
import type { Dispatcher } from "./dispatcher.ts";

/**
 * The service `name` of `kernel`.
 *
 * @throws {Deno.errors.NotSupported} When no loaded plugin provides it (`what` says what was tried).
 */
export function needService<T>(kernel: Dispatcher, name: string, what: string): T {
  const s = kernel.service<T>(name);
  if (s === undefined) {
    throw new Deno.errors.NotSupported(`Cannot ${what}: no loaded plugin provides "${name}"`);
  }
  return s;
}
