/**
 * The stack on a real Linux TAP device (Ethernet), Linux at 10.0.0.1 inside a
 * private network namespace: ARP resolution both ways and ping both ways.
 * Every test's tcpdump capture is checked with tshark (see _netns.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { LINKTYPE_ETHERNET } from "../../mod.ts";
import { formatMac } from "../../stack/wire/address.ts";
import {
  INTEROP_NEEDS,
  ip,
  LINUX_ADDRESS,
  pingCommand,
  pingUnanswered,
  STACK_ADDRESS,
  withDevice,
} from "./_netns.ts";
import { gated, type Requirement } from "../_require.ts";

/** What every test here needs: a TAP device in a namespace of its own, and ping. */
const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "ping"];

const STACK_MAC = new Uint8Array([0x02, 0x5e, 0x10, 0x00, 0x00, 0x02]);

/** Linux's neighbour entry for `addr`: `lladdr` and state, or undefined. */
async function linuxNeighbor(netns: string, dev: string, addr: string) {
  const out = await ip(["neigh", "show", addr, "dev", dev], { netns });
  const m = /lladdr (\S+) .*?\b([A-Z]+)\s*$/m.exec(out);
  return m === null ? undefined : { mac: m[1]!, state: m[2]! };
}

Deno.test(gated(NEEDS, {
  name: "tap: Linux resolves the stack with ARP (ip neigh REACHABLE) and pings it, 0% loss",
  async fn() {
    await withDevice({ mode: "tap", mac: STACK_MAC }, async (h) => {
      assert.equal(h.dev.linkType, LINKTYPE_ETHERNET);
      const r = await h.exec(
        pingCommand(STACK_ADDRESS, { count: 20, interval: 0.05, deadline: 5 }),
        20,
      );
      assert.deepEqual(pingUnanswered(r.stdout, 20), [], r.stdout);
      const n = await linuxNeighbor(h.netns, h.dev.name, STACK_ADDRESS);
      assert.deepEqual(n, { mac: formatMac(STACK_MAC), state: "REACHABLE" });
      const c = h.stack.counters.snapshot();
      assert.ok((c["arp.tx.replies"] ?? 0) >= 1, "the stack answered Linux's ARP request");
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "tap: the stack resolves Linux with ARP and pings it",
  async fn() {
    await withDevice({ mode: "tap" }, async (h) => {
      assert.ok(h.dev.linuxMac !== null);
      for (let i = 0; i < 3; i++) {
        const reply = h.stack.ping(LINUX_ADDRESS, { timeout: 2000 });
        h.runner.kick();
        assert.equal((await reply).from, LINUX_ADDRESS);
      }
      const entry = h.stack.neighbors().find((e) => e.address === LINUX_ADDRESS);
      assert.ok(entry !== undefined, "the stack has an ARP entry for Linux");
      assert.equal(entry.mac, formatMac(h.dev.linuxMac));
      assert.equal(entry.state, "REACHABLE");
      assert.ok((h.stack.counters.snapshot()["arp.tx.requests"] ?? 0) >= 1);
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "tap: full-size 1514-byte frames pass both ways (ping -M do -s 1472)",
  async fn() {
    await withDevice({ mode: "tap" }, async (h) => {
      // 1472 bytes of ICMP data: a full 1514-byte Ethernet frame each way.
      const r = await h.exec(
        pingCommand(STACK_ADDRESS, {
          count: 3,
          interval: 0.1,
          size: 1472,
          dontFragment: true,
          deadline: 5,
        }),
        10,
      );
      assert.deepEqual(pingUnanswered(r.stdout, 3), [], r.stdout);
      assert.equal(h.dev.stats.rxTruncated, 0);
    });
  },
}));
