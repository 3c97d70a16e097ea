/**
 * `--log-level debug` for `up`: what each plugin is doing, as log lines —
 * its bindings at boot, then neighbour (ARP) changes and TCP connection
 * state changes, found by comparing snapshots of the stack's tables a few
 * times a second (the stack itself stays free of wall-clock timers), and
 * rate-limited so a busy host does not flood the terminal.
 *
 * @module
 */
import type { Stack } from "../mod.ts";

/** One observable row: a key and what it looks like now. */
export type Snapshot = ReadonlyMap<string, string>;

/**
 * The changes from `before` to `after`, one line each: `KEY: OLD -> NEW`,
 * `KEY: NEW` when it appeared, `KEY: OLD -> gone` when it went.
 *
 * @example
 * ```ts
 * import { diffSnapshots } from "./_debug.ts";
 * import assert from "node:assert/strict";
 * const a = new Map([["x", "SYN-RECEIVED"], ["y", "ESTABLISHED"]]);
 * const b = new Map([["x", "ESTABLISHED"], ["z", "LISTEN"]]);
 * assert.deepEqual(diffSnapshots(a, b), [
 *   "x: SYN-RECEIVED -> ESTABLISHED",
 *   "z: LISTEN",
 *   "y: ESTABLISHED -> gone",
 * ]);
 * ```
 */
export function diffSnapshots(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const [k, v] of after) {
    const old = before.get(k);
    if (old === undefined) out.push(`${k}: ${v}`);
    else if (old !== v) out.push(`${k}: ${old} -> ${v}`);
  }
  for (const [k, v] of before) if (!after.has(k)) out.push(`${k}: ${v} -> gone`);
  return out;
}

/**
 * Lets at most `limit` lines through per `window` ms; says how many it
 * held back when the next window opens.
 *
 * @example
 * ```ts
 * import { RateLimiter } from "./_debug.ts";
 * import assert from "node:assert/strict";
 * const out: string[] = [];
 * const r = new RateLimiter((l) => out.push(l), { limit: 2, window: 1000 });
 * for (const l of ["a", "b", "c", "d"]) r.line(l, 0);
 * r.line("e", 1500);
 * assert.deepEqual(out, ["a", "b", "(2 debug lines suppressed)", "e"]);
 * ```
 */
export class RateLimiter {
  readonly #print: (line: string) => void;
  readonly #limit: number;
  readonly #window: number;
  #start = -Infinity;
  #count = 0;
  #held = 0;

  /** Creates a limiter printing through `print`. */
  constructor(print: (line: string) => void, options: { limit: number; window: number }) {
    this.#print = print;
    this.#limit = options.limit;
    this.#window = options.window;
  }

  /** Prints `line` at wall time `now` (ms) unless over the limit. */
  line(line: string, now: number): void {
    if (now - this.#start >= this.#window) {
      if (this.#held > 0) this.#print(`(${this.#held} debug lines suppressed)`);
      this.#start = now;
      this.#count = 0;
      this.#held = 0;
    }
    if (this.#count < this.#limit) {
      this.#count++;
      this.#print(line);
    } else this.#held++;
  }
}

function tcpSnapshot(stack: Stack): Snapshot {
  const m = new Map<string, string>();
  if (stack.service("tcp.sockets") === undefined) return m;
  for (const s of stack.sockets()) m.set(`${s.local} ${s.remote}`, s.state);
  return m;
}

function neighborSnapshot(stack: Stack): Snapshot {
  const m = new Map<string, string>();
  for (const n of stack.neighbors()) m.set(`${n.ifname} ${n.address}`, `${n.mac} ${n.state}`);
  return m;
}

/** The boot-time lines: each plugin's bindings, hooks and services. */
export function bindingLines(stack: Stack): string[] {
  const out: string[] = [];
  for (const p of stack.describe().plugins) {
    const parts = [
      ...p.binds.map((b) => `binds ${b.table} ${b.key < 256 ? b.key : `0x${b.key.toString(16)}`}`),
      ...p.hooks.map((h) => `hooks ${h}`),
      ...p.provides.map((s) => `provides ${s}`),
    ];
    out.push(`${p.name}: ${parts.length === 0 ? "(no bindings)" : parts.join(", ")}`);
  }
  return out;
}

/**
 * Starts watching `stack`: prints the bindings now, then every `interval`
 * ms the neighbour and TCP changes, through `log(source, message)`, at most
 * 50 lines a second. Returns the stopper.
 */
export function watchStack(
  stack: Stack,
  log: (source: string, message: string) => void,
  interval = 200,
): () => void {
  for (const l of bindingLines(stack)) {
    const colon = l.indexOf(":");
    log(l.slice(0, colon), l.slice(colon + 2));
  }
  let source = "";
  const limiter = new RateLimiter((l) => log(source, l), { limit: 50, window: 1000 });
  let tcp = tcpSnapshot(stack);
  let neigh = neighborSnapshot(stack);
  const tick = () => {
    const now = performance.now();
    const t = tcpSnapshot(stack);
    const n = neighborSnapshot(stack);
    source = "tcp";
    for (const l of diffSnapshots(tcp, t)) limiter.line(`connection ${l}`, now);
    source = "arp";
    for (const l of diffSnapshots(neigh, n)) limiter.line(`neighbour ${l}`, now);
    tcp = t;
    neigh = n;
  };
  const id = setInterval(tick, interval);
  return () => {
    clearInterval(id);
    tick(); // the last changes (connections reset at stop)
  };
}
