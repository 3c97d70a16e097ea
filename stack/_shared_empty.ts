/**
 * One empty Map and one empty Set for every table of every stack that has
 * no entries yet (issue 19: an empty Map is about 200 B, and an idle
 * virtual host had 33 of them). A table starts as one of these and swaps in
 * a new Map or Set of its own before its first write; reads (`get`, `has`,
 * `size`, iteration) and removals of absent keys need no change. Nothing may
 * ever be added to them: `tests/sim/shared_empty_test.ts` checks they are
 * still empty after traffic through every table that uses them.
 *
 * @module
 */

/** The shared empty Map: never written (see the module). */
export const EMPTY_MAP: Map<never, never> = new Map<never, never>();

/** The shared empty Set: never written (see the module). */
export const EMPTY_SET: Set<never> = new Set<never>();
