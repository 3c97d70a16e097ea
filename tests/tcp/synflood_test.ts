/**
 * A SYN flood: 10,000 SYNs from random spoofed sources and ports are
 * injected into a listener's stack, interleaved with the virtual network,
 * while a real client connects and transfers 1 MiB each way. The listener's
 * SYN queue stays at its bound (`synBacklog`), the overflow is answered with
 * SYN cookies, the real client's handshake completes through a cookie, and
 * the half-open connections die after their SYN-ACK retransmissions.
 */
import assert from "node:assert/strict";
import { ethernetFrame, hostMac, ipv4Packet, makeLink, ms } from "../_harness.ts";
import { tcpSegment } from "./_tcp.ts";
import { receiveAll, sendAll } from "./_transfer.ts";
import { formatIpv4Address } from "../../stack/wire/address.ts";
import { kernelOf } from "../../stack/stack.ts";

const SYNS = 10_000;
const BATCH = 100;
const SYN_BACKLOG = 256; // the default

Deno.test("tcp 10,000 spoofed SYNs while a real client connects and transfers 1 MiB: SYN cookies, bounded SYN queue", async () => {
  const env = makeLink({ seed: 21, faults: { delay: ms(10) } });
  const { a, b, net } = env;
  // SYN-ACKs to the spoofed (off-link) sources go to a, which drops them.
  b.addRoute("default", { gateway: "10.0.0.1" });
  const ifindex = b.interfaces.list()[0]!.index;
  const l = b.listen({ port: 80 });
  let x = 0x9e3779b9;
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const halfOpen = () =>
    b.sockets().filter((s) => s.state === "SYN-RECEIVED" && s.local === "10.0.0.2:80").length;
  let maxHalfOpen = 0;
  let injected = 0;
  function flood(): void {
    for (let i = 0; i < BATCH; i++) {
      // From 198.18.0.0/15 (RFC 2544), random ports, options like Linux's or none.
      const src = formatIpv4Address(0xc6120000 | (rand() & 0x1ffff));
      const r = rand();
      const options = r & 1
        ? { mss: 1460, sackOk: true, ts: [rand(), 0] as const, wscale: 7 }
        : { mss: 536 + (r >>> 20) % 1000 };
      const seg = tcpSegment(
        { srcPort: 1024 + (rand() % 64000), dstPort: 80, seq: rand(), flags: "S", options },
        src,
        "10.0.0.2",
      );
      const frame = ethernetFrame(
        { dst: hostMac(2), src: "02:00:00:00:00:99", etherType: 0x0800 },
        ipv4Packet({ src, dst: "10.0.0.2", protocol: 6 }, seg),
      );
      kernelOf(b).inject(ifindex, frame);
      injected++;
    }
    maxHalfOpen = Math.max(maxHalfOpen, halfOpen());
  }
  // One batch every 2 ms from now on (over 0.2 s of virtual time).
  const t0 = net.now();
  for (let k = 0; k < SYNS / BATCH; k++) net.at(t0 + k * ms(2), flood);
  let duringTransfer = 0;
  const total = 1 << 20;
  await env.run(async () => {
    // Connect once the SYN queue is full.
    await new Promise<void>((r) => net.at(t0 + ms(20), r));
    assert.equal(halfOpen(), SYN_BACKLOG);
    const [c, s] = await Promise.all([a.connect({ hostname: "10.0.0.2", port: 80 }), l.accept()]);
    const before = injected;
    const [aSent, bSent, atB, atA] = await Promise.all([
      sendAll(c, 1, total),
      sendAll(s, 2, total),
      receiveAll(s),
      receiveAll(c),
    ]);
    assert.equal(atB.bytes, total);
    assert.equal(atA.bytes, total);
    assert.equal(atB.hash, aSent);
    assert.equal(atA.hash, bSent);
    duringTransfer = injected - before;
    c.close();
    s.close();
  }, { timeout: 600_000_000 });
  net.runFor(ms(1000)); // the rest of the flood
  assert.equal(injected, SYNS);
  assert.ok(duringTransfer >= SYNS / 2, `${duringTransfer} SYNs arrived during the transfer`);
  const count = (n: string) => b.counters.get(`tcp.${n}`).value;
  assert.equal(maxHalfOpen, SYN_BACKLOG, "the SYN queue stayed at its bound");
  assert.equal(count("syncookies_recv"), 1, "the real client came in with a cookie");
  assert.ok(count("syncookies_sent") >= SYNS - SYN_BACKLOG, `${count("syncookies_sent")} cookies`);
  assert.equal(count("rx.bad_cookie"), 0);
  assert.ok(b.sockets().length <= SYN_BACKLOG + 2, `${b.sockets().length} sockets`);
  // Half-open connections give up after 5 SYN-ACK retransmissions (1+2+4+8+16+32 s).
  net.runFor(ms(70_000));
  assert.deepEqual(b.sockets().map((s) => s.state), ["LISTEN"]);
  l.close();
  env.finish();
});
