/**
 * An example plugin with a protocol of its own: "hello" frames on the IEEE
 * local experimental EtherType 0x88b5. A host that receives `HELLO <text>`
 * answers the sender with `HI <text>`; `hello.send` sends one. It uses only
 * the public API (`../../mod.ts`), exactly as a plugin in another
 * repository would.
 *
 * - **Binds:** `ethertype` 0x88b5.
 * - **Provides:** `hello.send`.
 * - **Requires:** `ethernet.send`.
 * - **Counters:** `rx.truncated`, `rx.unknown_message`, `rx.hello`, `rx.hi`, `tx.hello`, `tx.hi`.
 * - **Depends on:** ethernet.
 *
 * Graph: `eth0 -> ethernet -[ethertype 0x88b5]-> hello`
 *
 * @example
 * ```ts
 * import { loadStack } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = await loadStack({
 *   plugins: ["ethernet", "arp", "ipv4", "icmp", new URL("./mod.ts", import.meta.url).href],
 * });
 * assert.ok(stack.pluginNames.includes("hello"));
 * ```
 *
 * @module
 */
import type {
  EthernetService,
  PacketBuffer,
  ProtocolPlugin,
  RxContext,
  RxVerdict,
} from "../../mod.ts";
import { CONSUMED } from "../../mod.ts";

/** The EtherType this plugin claims (IEEE 802 local experimental 1). */
export const ETHERTYPE_HELLO = 0x88b5;

/** The `hello.send` service. */
export interface HelloService {
  /** Sends `HELLO <text>` to `dst` (a MAC) out of interface `ifindex`. */
  send(ifindex: number, dst: Uint8Array, text: string): void;
  /** Texts of the `HI` answers received so far, oldest first (at most 100). */
  answers(): string[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The hello plugin. */
export const plugin: ProtocolPlugin = {
  manifest: {
    name: "hello",
    version: "1.0.0",
    api: "^1.0.0",
    description: "Example: HELLO/HI frames on EtherType 0x88b5",
    layer: "service",
    dependencies: ["ethernet"],
    binds: [{ table: "ethertype", key: ETHERTYPE_HELLO }],
    provides: ["hello.send"],
    requires: ["ethernet.send"],
    counters: ["rx.truncated", "rx.unknown_message", "rx.hello", "rx.hi", "tx.hello", "tx.hi"],
    options: {
      maxText: { default: 200, description: "longest text answered, in bytes" },
    },
  },
  setup(ctx) {
    let eth!: EthernetService;
    const maxText = ctx.options.maxText as number;
    const answers: string[] = [];
    const rxHello = ctx.counter("rx.hello");
    const rxHi = ctx.counter("rx.hi");
    const txHello = ctx.counter("tx.hello");
    const txHi = ctx.counter("tx.hi");

    function frame(message: string): PacketBuffer {
      const bytes = encoder.encode(message);
      const pkt = ctx.pool.alloc(bytes.length);
      pkt.buf.set(bytes, pkt.start);
      return pkt;
    }

    return {
      // The dispatcher lends `pkt` for the duration of the call: everything we
      // keep (the text) is decoded into a new string, so nothing is retained.
      receive(pkt: PacketBuffer, rx: RxContext): RxVerdict {
        if (pkt.length < 3) return "truncated";
        const text = decoder.decode(pkt.data).replace(/\0+$/, ""); // Ethernet padding
        if (text.startsWith("HELLO ")) {
          rxHello.value++;
          const body = text.slice(6, 6 + maxText);
          const src = pkt.buf.subarray(pkt.l2 + 6, pkt.l2 + 12);
          txHi.value++;
          eth.send(rx.iface.index, src, ETHERTYPE_HELLO, frame(`HI ${body}`));
          return CONSUMED;
        }
        if (text.startsWith("HI ")) {
          rxHi.value++;
          if (answers.length >= 100) answers.shift();
          answers.push(text.slice(3));
          return CONSUMED;
        }
        return "unknown_message";
      },
      services: {
        "hello.send": {
          send(ifindex: number, dst: Uint8Array, text: string): void {
            txHello.value++;
            eth.send(ifindex, dst, ETHERTYPE_HELLO, frame(`HELLO ${text}`));
          },
          answers: () => [...answers],
        } satisfies HelloService,
      },
      ready() {
        eth = ctx.service<EthernetService>("ethernet.send");
      },
    };
  },
};

export default plugin;
