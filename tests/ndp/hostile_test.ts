/**
 * Neighbor Discovery against hostile input: messages RFC 4861 says to
 * discard (hop limit not 255, code not 0, too short, options of zero
 * length, multicast targets, bad link-layer options) are dropped and
 * counted; floods of solicitations cannot grow the cache past its bound.
 */
import assert from "node:assert/strict";
import {
  icmpv6Packet,
  llaOption,
  multicastMac,
  ndpHost,
  neighbors6,
  nsMessage,
  solicitedNode,
  v6Frame,
} from "./_ndp.ts";
import type { UdpService } from "../../stack/services.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";

const US = "fd00::1";
const PEER = "fd00::9";
const PEER_MAC = "02:00:00:00:00:99";

function host(ndp: Record<string, number | boolean> = {}) {
  return ndpHost(US, ndp);
}

/** An NS frame for US from PEER with `message` bytes as given. */
function nsFrame(message: Uint8Array, hopLimit = 255): Uint8Array {
  const group = solicitedNode(US);
  return v6Frame(multicastMac(group), PEER_MAC, icmpv6Packet(PEER, group, message, hopLimit));
}

Deno.test("ndp hostile: every invalid Neighbor Discovery message is dropped with its reason, never answered", () => {
  const h = host();
  h.take();
  const valid = nsMessage(US, llaOption(1, PEER_MAC));
  const cases: [string, Uint8Array, number?][] = [
    ["ndp.rx.bad_hop_limit", valid, 64],
    [
      "ndp.rx.bad_code",
      (() => {
        const m = valid.slice();
        m[1] = 1;
        return m;
      })(),
    ],
    ["ndp.rx.too_short", valid.subarray(0, 20)],
    ["ndp.rx.bad_option_length", nsMessage(US, [1, 0, 0, 0, 0, 0, 0, 0])],
    ["ndp.rx.bad_option_length", nsMessage(US, [1, 2, 0, 0, 0, 0, 0, 0])], // runs past the end
    ["ndp.rx.multicast_target", nsMessage("ff02::1", llaOption(1, PEER_MAC))],
    ["ndp.rx.bad_link_address", nsMessage(US, llaOption(1, "01:00:5e:00:00:01"))],
  ];
  for (const [counter, message, hop] of cases) {
    const before = h.counter(counter);
    assert.deepEqual(h.inject(nsFrame(message, hop)), [], counter);
    assert.equal(h.counter(counter), before + 1, counter);
  }
  assert.deepEqual(neighbors6(h.stack), [], "nothing learned from any of them");
  assert.equal(h.counter("ndp.rx.solicitations"), 0);
  assert.equal(h.counter("dispatcher.plugin_fault"), 0);
  // The valid one is answered.
  assert.equal(h.inject(nsFrame(valid)).length, 1);
  h.finish();
});

Deno.test("ndp hostile: every prefix of a solicitation is dropped without a fault", () => {
  const h = host();
  const full = nsFrame(nsMessage(US, llaOption(1, PEER_MAC)));
  for (let n = 0; n < full.length; n++) h.inject(full.subarray(0, n));
  assert.equal(h.counter("dispatcher.plugin_fault"), 0);
  assert.deepEqual(neighbors6(h.stack), []);
  h.finish();
});

Deno.test("ndp hostile: a flood of solicitations from 5,000 spoofed senders leaves the cache at maxEntries", () => {
  const h = host({ maxEntries: 64 });
  for (let i = 0; i < 5000; i++) {
    const src = IpAddress.parse(`fd00::1:${(i + 1).toString(16)}`)!.toString();
    const hex2 = (v: number) => v.toString(16).padStart(2, "0");
    const srcMac = `02:01:00:00:${hex2((i >> 8) & 0xff)}:${hex2(i & 0xff)}`;
    const group = solicitedNode(US);
    h.inject(
      v6Frame(
        multicastMac(group),
        srcMac,
        icmpv6Packet(src, group, nsMessage(US, llaOption(1, srcMac))),
      ),
    );
    h.take();
  }
  assert.equal(neighbors6(h.stack).length, 64);
  assert.ok(h.counter("ndp.cache.evicted") > 4000);
  assert.equal(h.counter("ndp.rx.solicitations"), 5000);
  h.finish();
});

Deno.test("ndp hostile: solicitations for 5,000 targets that are not ours create nothing", () => {
  const h = host({ maxEntries: 64 });
  for (let i = 0; i < 5000; i++) {
    const target = IpAddress.parse(`fd00::2:${(i + 1).toString(16)}`)!.toString();
    // Unicast to us so that it reaches NDP whatever the group.
    h.inject(
      v6Frame(
        "02:00:00:00:00:01",
        PEER_MAC,
        icmpv6Packet(PEER, US, nsMessage(target, llaOption(1, PEER_MAC))),
      ),
    );
  }
  assert.deepEqual(h.take(), []);
  assert.deepEqual(neighbors6(h.stack), []);
  assert.equal(h.counter("ndp.rx.not_for_us"), 5000);
  h.finish();
});

Deno.test("ndp hostile: sending to many unresolved destinations is bounded (cache.full, no leak)", () => {
  const h = host({ maxEntries: 16 });
  const udp = h.stack.service<UdpService>("udp.sockets")!;
  const s = udp.open({ family: 6 });
  assert.ok(typeof s !== "string");
  for (let i = 0; i < 100; i++) {
    s.send(new Uint8Array(8), IpAddress.parse(`fd00::3:${(i + 1).toString(16)}`)!, 9);
  }
  s.close();
  h.runFor(0);
  assert.equal(neighbors6(h.stack).length, 16);
  assert.ok(neighbors6(h.stack).every((n) => n.state === "INCOMPLETE"));
  assert.equal(h.counter("ndp.cache.full"), 84);
  assert.equal(h.counter("ndp.tx.unresolved"), 84);
  h.finish();
});
