/**
 * `conn.info()` and `stack.sockets()` report what Linux's `tcp_info` does
 * (`ss -ti`): state, RTT and its variance, RTO, cwnd and ssthresh, pacing
 * and delivery rates, the smallest RTT, retransmits, reordering, the
 * congestion control and its phase; `formatSockets` prints them as `ss`.
 */
import assert from "node:assert/strict";
import { formatSockets } from "../../mod.ts";
import { makeLink, ms } from "../_harness.ts";
import { source } from "./_transfer.ts";

Deno.test("tcp ESTABLISHED after a transfer → info() has tcp_info's fields with the path's figures", async () => {
  const lane = { bandwidth: 20_000_000, delay: ms(10), queueLimit: { bytes: 200_000 } };
  const env = makeLink({
    seed: 8,
    directions: { "a->b": lane, "b->a": lane },
    plugins: { tcp: { pacing: true } },
  });
  await env.run(() => env.a.ping("10.0.0.2"));
  const l = env.b.listen({ port: 80 });
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80 }),
      l.accept(),
    ]);
    // 4 MiB one way, the connection left open.
    const total = 4 << 20;
    const writing = (async () => {
      for (const chunk of source(3, total)) {
        let off = 0;
        while (off < chunk.length) off += await c.write(chunk.subarray(off));
      }
    })();
    const buf = new Uint8Array(65536);
    for (let got = 0; got < total;) got += (await s.read(buf))!;
    await writing;
    const i = c.info();
    assert.equal(i.state, "ESTABLISHED");
    assert.equal(i.cc, "cubic");
    assert.ok(["slow_start", "css", "avoidance"].includes(i.ccState!), i.ccState);
    assert.ok(i.rtt! >= 20 && i.rtt! < 110, `rtt ${i.rtt} (20 ms path, up to 80 ms of queue)`);
    assert.ok(i.rttvar! >= 0 && i.rto! >= 200, `rttvar ${i.rttvar} rto ${i.rto}`);
    assert.ok(i.minRtt! >= 20 && i.minRtt! <= i.rtt!, `min RTT ${i.minRtt}`);
    assert.equal(i.retransmits, 0);
    assert.equal(i.reordering, 3);
    // Linux's fq rate for a paced CUBIC: cwnd / SRTT times 2 (slow start) or 1.2.
    const perSrtt = (i.cwnd! * i.mss!) / (i.rtt! / 1000);
    const ratio = i.pacingRate! / perSrtt;
    assert.ok(
      ratio > 1.1 && ratio < 2.2,
      `pacing ${i.pacingRate} = ${ratio.toFixed(2)} × cwnd/SRTT`,
    );
    // Delivery rate: at most the link's payload rate (2.5 MB/s less headers).
    assert.ok(i.deliveryRate! > 0 && i.deliveryRate! <= 2_500_000 * 1448 / 1514 * 1.02);
    const row = env.a.sockets().find((x) => x.state === "ESTABLISHED")!;
    assert.equal(row.deliveryRate, i.deliveryRate);
    const text = formatSockets(env.a.sockets());
    assert.match(text, /pacing_rate \d+(\.\d)?[KMG]?bps/);
    assert.match(text, /delivery_rate \d+(\.\d)?[KMG]?bps/);
    assert.match(text, /minrtt:\d/);
    c.close();
    s.close();
  });
  l.close();
  env.runFor(ms(70_000));
  env.finish();
});

Deno.test("tcp info() before and after the first data: no rate sample until data is sent; the first initial window's samples are app-limited", async () => {
  const lane = { bandwidth: 20_000_000, delay: ms(5) };
  const env = makeLink({ seed: 3, directions: { "a->b": lane, "b->a": lane } });
  await env.run(() => env.a.ping("10.0.0.2"));
  const l = env.b.listen({ port: 80 });
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80 }),
      l.accept(),
    ]);
    for (const i of [c.info(), s.info()]) {
      assert.equal(i.deliveryRate, 0);
      assert.equal(i.deliveryRateAppLimited, false);
      assert.equal(i.minRtt, undefined);
    }
    // Exactly the initial window (10 segments): the sender is never short of
    // data while sending it, so only the mark made after the handshake (no
    // data in flight) makes these samples application-limited.
    const iw = 10 * s.info().mss!;
    assert.equal(await s.write(new Uint8Array(iw).fill(7)), iw);
    const buf = new Uint8Array(65536);
    for (let got = 0; got < iw;) got += (await c.read(buf))!;
    await new Promise<void>((resolve) => env.net.at(env.net.now() + ms(50), resolve)); // the last ACKs
    const sent = s.info();
    assert.ok(sent.deliveryRate! > 0, `delivery rate ${sent.deliveryRate}`);
    assert.equal(sent.deliveryRateAppLimited, true);
    assert.ok(sent.minRtt! >= 10, `min RTT ${sent.minRtt}`);
    // The side that only received has taken no sample.
    const received = c.info();
    assert.equal(received.deliveryRate, 0);
    assert.equal(received.minRtt, undefined);
    c.close();
    s.close();
  });
  l.close();
  env.runFor(ms(70_000));
  env.finish();
});
