import assert from "node:assert/strict";
import {
  arpPacket,
  checkEthernet,
  checkIcmp,
  checkIpv4,
  checksum,
  ethernetFrame,
  type Host,
  type HostOptions,
  icmpEcho,
  ipv4Packet,
  makeHost,
  makeLink,
  ms,
  pcapRecords,
  track,
  withEnv,
} from "../../../tests/_harness.ts";
import { assertTsharkClean } from "../../../tests/_tshark.ts";

const US = "02:00:00:00:00:01";
const PEER = "02:00:00:00:00:99";
const BROADCAST = "ff:ff:ff:ff:ff:ff";
const SECOND = 1_000_000;

function host(options: HostOptions = {}): Host {
  const h = makeHost({ mac: US, addresses: ["10.0.0.1/24"], ...options });
  // Let the stack learn PEER as 10.0.0.9 so that replies need no resolution.
  h.inject(
    ethernetFrame(
      { dst: BROADCAST, src: PEER, etherType: 0x0806 },
      arpPacket({ operation: 1, senderMac: PEER, senderIp: "10.0.0.9", targetIp: "10.0.0.1" }),
    ),
  );
  return h;
}

/** An ICMP message from 10.0.0.9 (PEER) to `dst`. */
function icmpFrame(icmp: Uint8Array, dst = "10.0.0.1", dstMac = US): Uint8Array {
  return ethernetFrame(
    { dst: dstMac, src: PEER, etherType: 0x0800 },
    ipv4Packet({ src: "10.0.0.9", dst, protocol: 1 }, icmp),
  );
}

Deno.test("icmp's echo reply checksum equals a full recomputation, all-zero reply too", () => {
  const h = host();
  const cases = [
    { identifier: 0, sequence: 0, data: new Uint8Array(0) }, // the reply is all zero: 0xffff
    { identifier: 0, sequence: 0, data: new Uint8Array(0), code: 5 },
    { identifier: 0xffff, sequence: 0xffff, data: new Uint8Array(7).fill(0xff) },
    { identifier: 0xf7ff, sequence: 0, data: new Uint8Array(0) }, // field 0 in the request
    { identifier: 1, sequence: 2, data: Uint8Array.from({ length: 56 }, (_, i) => i) },
  ];
  for (const c of cases) {
    const out = h.inject(icmpFrame(icmpEcho(c)));
    assert.equal(out.length, 1);
    const icmp = out[0]!.subarray(14 + 20);
    const full = icmp.slice();
    full[2] = full[3] = 0;
    assert.equal((icmp[2]! << 8) | icmp[3]!, checksum(full), JSON.stringify(c));
    assert.equal(icmp[0], 0);
    assert.equal(icmp[1], 0);
  }
  h.finish();
});

Deno.test("icmp answers an echo request with the same identifier, sequence and data", () => {
  const h = host();
  const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 7 + 3) & 0xff);
  const out = h.inject(icmpFrame(icmpEcho({ identifier: 0xbeef, sequence: 42, data })));
  assert.equal(out.length, 1);
  checkEthernet(
    { dst: PEER, src: US, etherType: 0x0800 },
    checkIpv4(
      { src: "10.0.0.1", dst: "10.0.0.9", protocol: 1, ttl: 64 },
      checkIcmp({ type: 0, code: 0, identifier: 0xbeef, sequence: 42, data }),
    ),
  )(out[0]!);
  assert.equal(h.counter("icmp.rx.echo_requests"), 1);
  assert.equal(h.counter("icmp.tx.echo_replies"), 1);
  h.finish();
});

Deno.test("icmp answers an echo request with no data and one with an odd length", () => {
  const h = host();
  for (const data of [new Uint8Array(0), new Uint8Array([0xff, 0xfe, 0xfd])]) {
    const out = h.inject(icmpFrame(icmpEcho({ identifier: 1, sequence: 2, data })));
    checkEthernet({}, checkIpv4({}, checkIcmp({ type: 0, data })))(out[0]!);
  }
  h.finish();
});

Deno.test("icmp drops a message with a bad checksum as rx.bad_checksum", () => {
  const h = host();
  const echo = icmpEcho({ identifier: 1, sequence: 1 });
  echo[20]! ^= 0x40; // a data bit: the checksum no longer holds
  assert.deepEqual(h.inject(icmpFrame(echo)), []);
  assert.equal(h.counter("icmp.rx.bad_checksum"), 1);
  h.finish();
});

Deno.test("icmp drops a message shorter than its header as rx.truncated", () => {
  const h = host();
  for (let n = 0; n < 8; n++) {
    assert.deepEqual(
      h.inject(icmpFrame(icmpEcho({ identifier: 1, sequence: 1 }).subarray(0, n))),
      [],
    );
  }
  assert.equal(h.counter("icmp.rx.truncated"), 8);
  h.finish();
});

Deno.test("icmp ignores echo requests to broadcast and multicast addresses by default", () => {
  const h = host();
  const echo = icmpEcho({ identifier: 1, sequence: 1 });
  assert.deepEqual(h.inject(icmpFrame(echo, "10.0.0.255", BROADCAST)), []);
  assert.deepEqual(h.inject(icmpFrame(echo, "255.255.255.255", BROADCAST)), []);
  assert.deepEqual(h.inject(icmpFrame(echo, "224.0.0.1", "01:00:5e:00:00:01")), []);
  assert.equal(h.counter("icmp.rx.broadcast_echo_ignored"), 3);
  h.finish();
});

Deno.test("icmp with echoIgnoreBroadcasts: false answers a broadcast echo from its own address", () => {
  const h = host({ plugins: { icmp: { echoIgnoreBroadcasts: false } } });
  const echo = icmpEcho({ identifier: 1, sequence: 1 });
  for (
    const [dst, mac] of [
      ["10.0.0.255", BROADCAST],
      ["255.255.255.255", BROADCAST],
      ["224.0.0.1", "01:00:5e:00:00:01"],
    ]
  ) {
    const out = h.inject(icmpFrame(echo, dst, mac));
    assert.equal(out.length, 1, dst);
    checkEthernet(
      { dst: PEER },
      checkIpv4({ src: "10.0.0.1", dst: "10.0.0.9" }, checkIcmp({ type: 0, identifier: 1 })),
    )(out[0]!);
  }
  h.finish();
});

Deno.test("icmp counts an echo reply that matches no ping as rx.unmatched_reply", () => {
  const h = host();
  assert.deepEqual(h.inject(icmpFrame(icmpEcho({ type: 0, identifier: 5, sequence: 5 }))), []);
  assert.equal(h.counter("icmp.rx.unmatched_reply"), 1);
  h.finish();
});

Deno.test("icmp ping: a reply matches by identifier and sequence, from any address (as Linux's ping)", async () => {
  const h = host();
  const p = track(h.stack.ping("10.0.0.9", { timeout: 10, identifier: 7, sequence: 1 }));
  h.runFor(0);
  h.take();
  const replyFrom8 = (sequence: number) =>
    ethernetFrame(
      { dst: US, src: PEER, etherType: 0x0800 },
      ipv4Packet(
        { src: "10.0.0.8", dst: "10.0.0.1", protocol: 1 },
        icmpEcho({ type: 0, identifier: 7, sequence }),
      ),
    );
  h.inject(replyFrom8(2)); // another sequence: not this ping's
  assert.equal(h.counter("icmp.rx.unmatched_reply"), 1);
  h.inject(replyFrom8(1)); // another address: ping(8) takes it, "(DIFFERENT ADDRESS!)"
  await p.done;
  assert.equal(p.value?.from, "10.0.0.8");
  h.inject(replyFrom8(1)); // answered: nothing waits for it any more
  assert.equal(h.counter("icmp.rx.unmatched_reply"), 2);
  h.finish();
});

Deno.test("icmp ping: the RTT is twice the link's delay on the virtual clock", async () => {
  await withEnv(makeLink({ seed: 5, faults: { delay: ms(10) } }), async (env) => {
    // Let the start-up announcements pass (they would resolve ARP early).
    env.runFor(SECOND);
    // The first ping resolves ARP too: request, reply, echo, reply.
    const first = await env.run(() => env.a.ping("10.0.0.2"));
    assert.equal(first.rtt, 40);
    for (let i = 0; i < 3; i++) {
      const r = await env.run(() => env.a.ping("10.0.0.2", { size: 100 * i }));
      assert.deepEqual([r.rtt, r.from, r.ttl, r.bytes], [20, "10.0.0.2", 64, 100 * i]);
    }
  });
});

Deno.test("icmp ping: sequence numbers count up and the reply echoes them", async () => {
  await withEnv(makeLink({ seed: 6 }), async (env) => {
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) seqs.push((await env.run(() => env.a.ping("10.0.0.2"))).sequence);
    assert.deepEqual(seqs, [1, 2, 3]);
    const r = await env.run(() => env.a.ping("10.0.0.2", { sequence: 999 }));
    assert.equal(r.sequence, 999);
  });
});

Deno.test("icmp ping: no reply rejects with TimedOut exactly after the timeout in virtual time", async () => {
  await withEnv(makeLink({ seed: 7 }), async (env) => {
    await env.run(() => env.a.ping("10.0.0.2")); // resolve ARP first
    env.link.partition();
    const start = env.net.now();
    await assert.rejects(
      env.run(() => env.a.ping("10.0.0.2", { timeout: 2000 })),
      Deno.errors.TimedOut,
    );
    assert.equal(env.net.now() - start, 2 * SECOND);
    const t1 = env.net.now();
    await assert.rejects(env.run(() => env.a.ping("10.0.0.2")), Deno.errors.TimedOut);
    assert.equal(env.net.now() - t1, SECOND, "the default timeout is 1 s");
  });
});

Deno.test({
  name: "icmp answers the echo requests of tun-ping4.pcap on a raw-IP interface",
  async fn() {
    const h = makeHost({ linkType: 101, addresses: ["10.77.0.2/24"], capture: true });
    const records = pcapRecords("linux-probes/tun-ping4.pcap");
    const requests = records.filter((r) => r.data[0]! >> 4 === 4);
    assert.equal(requests.length, 3);
    const out = records.flatMap((r) => h.inject(r.data));
    assert.equal(out.length, 3);
    out.forEach((reply, i) => {
      const req = requests[i]!.data;
      checkIpv4(
        { src: "10.77.0.2", dst: "10.77.0.1", protocol: 1, totalLength: req.length },
        checkIcmp({
          type: 0,
          code: 0,
          identifier: 0x0630,
          sequence: i + 1,
          data: req.subarray(28),
        }),
      )(reply);
    });
    assert.equal(h.counter("icmp.tx.echo_replies"), 3);
    assert.equal(h.counter("dispatcher.plugin_fault"), 0);
    await assertTsharkClean(h.capture!.bytes());
    h.finish();
  },
});
