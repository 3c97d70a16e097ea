/**
 * `--log-level debug` for `up`: what each plugin is doing, as log lines —
 * its bindings at boot, then every neighbour (ARP) and TCP connection
 * state change as the stack publishes it (`neighbor-changed` and
 * `connection-state` events, seen by {@linkcode debugPlugin}),
 * rate-limited so a busy host does not flood the terminal.
 *
 * @module
 */
import type {
  ConnectionStateEvent,
  Instant,
  NeighborChangedEvent,
  PluginContext,
  ProtocolHandlers,
  ProtocolPlugin,
  Stack,
  StackEvent,
} from "../mod.ts";

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

/** Where {@linkcode debugPlugin} writes: `source` is the publishing plugin. */
export type DebugLog = (time: Instant, source: string, message: string) => void;

/**
 * The line for a state-change event (`neighbor-changed`,
 * `connection-state`), or null for any other event. `ifname` names an
 * interface index.
 *
 * @example
 * ```ts
 * import { eventLine } from "./_debug.ts";
 * import assert from "node:assert/strict";
 * const ev = {
 *   type: "connection-state", plugin: "tcp", local: "10.0.0.2:7", remote: "10.0.0.1:4000",
 *   from: "SYN-RECEIVED", to: "ESTABLISHED",
 * } as const;
 * assert.equal(eventLine(ev, String), "connection 10.0.0.2:7 10.0.0.1:4000: SYN-RECEIVED -> ESTABLISHED");
 * ```
 */
export function eventLine(ev: StackEvent, ifname: (ifindex: number) => string): string | null {
  if (ev.type === "connection-state") {
    const e = ev as ConnectionStateEvent;
    return `connection ${e.local} ${e.remote}: ${e.from} -> ${e.to}`;
  }
  if (ev.type === "neighbor-changed") {
    const e = ev as NeighborChangedEvent;
    const mac = e.mac === null ? "" : ` ${e.mac}`;
    return `neighbour ${ifname(e.ifindex)} ${e.address}: ${e.previous} -> ${e.state}${mac}`;
  }
  return null;
}

/**
 * A plugin (layer "service", no bindings) that writes every neighbour and
 * connection state change the stack publishes through `log`, at most
 * `limit` lines a second of stack time (default 50; the rest are counted
 * and reported when the next second opens). Events arrive as the changes
 * happen, so a state lasting microseconds is logged too.
 *
 * @param log Receives each line with the stack time.
 * @param options `limit`: lines a second.
 * @returns The plugin, to add to the stack's plugin list.
 *
 * @example
 * ```ts
 * import { debugPlugin } from "./_debug.ts";
 * import { createStack } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const p = debugPlugin(() => {});
 * assert.equal(p.manifest.layer, "service");
 * assert.deepEqual(p.manifest.binds, []);
 * createStack({ plugins: [p] }).close();
 * ```
 */
export function debugPlugin(log: DebugLog, options: { limit?: number } = {}): ProtocolPlugin {
  return {
    manifest: {
      name: "debug-log",
      version: "1.0.0",
      api: "^1.0.0",
      description: "up --log-level debug: neighbour and connection state changes as log lines",
      layer: "service",
      binds: [],
      counters: [],
      events: ["neighbor-changed", "connection-state"],
    },
    setup(ctx: PluginContext): ProtocolHandlers {
      let source = "";
      let time: Instant = 0;
      const limiter = new RateLimiter((l) => log(time, source, l), {
        limit: options.limit ?? 50,
        window: 1000,
      });
      const ifname = (i: number) => ctx.interfaces.get(i)?.name ?? String(i);
      return {
        onEvent(ev) {
          const line = eventLine(ev, ifname);
          if (line === null) return;
          source = (ev as ConnectionStateEvent | NeighborChangedEvent).plugin;
          time = ctx.now();
          limiter.line(line, time / 1000);
        },
      };
    },
  };
}
