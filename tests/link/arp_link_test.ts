import assert from "node:assert/strict";
import {
  checkArp,
  checkEthernet,
  checkIcmp,
  checkIpv4,
  framesMatching,
  makeLink,
  ms,
  withEnv,
} from "../_harness.ts";
import { DIRECTION_INBOUND, DIRECTION_OUTBOUND } from "../../drivers/pcapfile/mod.ts";

const SECOND = 1_000_000;
const A = "02:00:00:00:00:01";
const B = "02:00:00:00:00:02";
const BROADCAST = "ff:ff:ff:ff:ff:ff";

Deno.test("link: two stacks resolve once (one request, one reply), then talk unicast", async () => {
  await withEnv(
    makeLink({ seed: 51, faults: { delay: ms(1) }, capture: "pcapng" }),
    async (env) => {
      env.runFor(SECOND);
      for (let i = 0; i < 3; i++) await env.run(() => env.a.ping("10.0.0.2"));
      // ARP and IPv4 only: IPv6's start-up frames (DAD, RS, MLD) are not under test.
      const records = env.capture!.records().filter((r) =>
        r.data[12] === 0x08 && (r.data[13] === 0x06 || r.data[13] === 0x00)
      );
      const sent = records.filter((r) => r.direction === DIRECTION_OUTBOUND).map((r) => r.data);
      const got = records.filter((r) => r.direction === DIRECTION_INBOUND).map((r) => r.data);
      assert.equal(sent.length, 1 + 1 + 3); // announcement, request, echo requests
      assert.equal(got.length, 1 + 1 + 3); // announcement, reply, echo replies
      checkEthernet({ dst: BROADCAST, src: A }, checkArp({ operation: 1, targetIp: "10.0.0.2" }))(
        sent[1]!,
      );
      checkEthernet({ dst: A, src: B }, checkArp({ operation: 2, senderIp: "10.0.0.2" }))(got[1]!);
      for (const f of sent.slice(2)) {
        checkEthernet({ dst: B, src: A }, checkIpv4({}, checkIcmp({ type: 8 })))(f);
      }
      for (const f of got.slice(2)) {
        checkEthernet({ dst: A, src: B }, checkIpv4({}, checkIcmp({ type: 0 })))(f);
      }
    },
  );
});

Deno.test("link: both ends pinging at once resolve with one request each", async () => {
  await withEnv(makeLink({ seed: 52, faults: { delay: ms(5) }, capture: true }), async (env) => {
    env.runFor(SECOND);
    const [ra, rb] = await env.run(() =>
      Promise.all([env.a.ping("10.0.0.2"), env.b.ping("10.0.0.1")])
    );
    assert.equal(ra.from, "10.0.0.2");
    assert.equal(rb.from, "10.0.0.1");
    // Each request reaches a host already waiting for the asker: the RFC 826
    // merge resolves it there and then, so the echo leaves after one crossing.
    assert.equal(ra.rtt, 15);
    assert.equal(rb.rtt, 15);
    assert.equal(env.a.counters.get("arp.tx.requests").value, 1);
    assert.equal(env.b.counters.get("arp.tx.requests").value, 1);
  });
});

Deno.test("link: a STALE entry is confirmed by a unicast probe the peer answers", async () => {
  const env = makeLink({
    seed: 53,
    capture: true,
    plugins: { arp: { reachableTime: 10 * SECOND } },
  });
  await withEnv(env, async () => {
    await env.run(() => env.a.ping("10.0.0.2"));
    env.runFor(16 * SECOND);
    assert.equal(env.a.neighbors()[0]?.state, "STALE");
    await env.run(() => env.a.ping("10.0.0.2"));
    env.runFor(5 * SECOND); // the probe leaves 5 s after the use (Linux's DELAY)
    assert.equal(env.a.neighbors()[0]?.state, "REACHABLE");
    const frames = env.capture!.frames();
    const probe = framesMatching(
      frames,
      checkEthernet({ dst: B, src: A }, checkArp({ operation: 1, targetIp: "10.0.0.2" })),
    );
    assert.equal(probe.length, 1);
    const replies = framesMatching(frames, checkEthernet({ dst: A }, checkArp({ operation: 2 })));
    assert.equal(replies.length, 2);
  });
});

Deno.test("link: a raw-IP link needs no ARP", async () => {
  const env = makeLink({
    seed: 57,
    linkType: 101,
    addresses: [["10.77.0.1/24"], ["10.77.0.2/24"]],
    faults: { delay: ms(3) },
  });
  await withEnv(env, async () => {
    const r = await env.run(() => env.a.ping("10.77.0.2"));
    assert.equal(r.rtt, 6);
    assert.equal(env.a.counters.get("arp.tx.requests").value, 0);
    assert.deepEqual(env.a.neighbors(), []);
  });
});
