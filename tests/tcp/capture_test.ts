/**
 * Captures of TCP traffic open clean in tshark: no malformed frames, no bad
 * checksums (IPv4 and TCP validation on), and on a lossless link no TCP
 * analysis warnings at all ("ACKed unseen segment", "Previous segment not
 * captured", …). The Linux SYN of `linux-probes/tun-curl4.pcap` replayed
 * into a listener gets a valid SYN-ACK with matching options.
 */
import assert from "node:assert/strict";
import { ipv4Packet, makeHost, makeLink, ms, pcapRecords } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { one, parseSeg, pattern, type Seg, tcpSegment } from "./_tcp.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";
import { gated } from "../_require.ts";

async function drain(conn: TcpConn): Promise<number> {
  const buf = new Uint8Array(16384);
  let n = 0;
  for (;;) {
    const r = await conn.read(buf);
    if (r === null) return n;
    n += r;
  }
}

async function pump(conn: TcpConn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
  await conn.closeWrite();
}

Deno.test(
  gated(["tshark"], {
    name: "tcp capture of a lossless exchange has no tshark warnings",
    fn: async () => {
      const env = makeLink({ seed: 5, faults: { delay: ms(2) }, capture: true });
      const l = env.b.listen({ port: 48000 });
      await env.run(async () => {
        const [c, s] = await Promise.all([
          env.a.connect({ hostname: "10.0.0.2", port: 48000 }),
          l.accept(),
        ]);
        const [, , atB, atA] = await Promise.all([
          pump(c, pattern(300_000)),
          pump(s, pattern(200_000, 7)),
          drain(s),
          drain(c),
        ]);
        assert.equal(atB, 300_000);
        assert.equal(atA, 200_000);
        c.close();
        s.close();
      });
      env.runFor(ms(70_000)); // through TIME-WAIT
      l.close();
      const bytes = env.capture!.bytes();
      await assertTsharkClean(bytes, { replaceAllowed: true });
      env.finish();
    },
  }),
);

Deno.test(
  gated(["tshark"], {
    name: "tcp capture of a lossy exchange has no malformed frames or bad checksums",
    fn: async () => {
      const env = makeLink({
        seed: 6,
        faults: { delay: ms(10), jitter: ms(3), loss: 0.05, reorder: 0.05, duplicate: 0.02 },
        capture: true,
      });
      const l = env.b.listen({ port: 48000 });
      await env.run(async () => {
        const [c, s] = await Promise.all([
          env.a.connect({ hostname: "10.0.0.2", port: 48000 }),
          l.accept(),
        ]);
        await Promise.all([
          pump(c, pattern(200_000)),
          drain(s),
          pump(s, pattern(50_000)),
          drain(c),
        ]);
        c.close();
        s.close();
      });
      env.runFor(ms(70_000));
      l.close();
      // Loss seen from one end of the link is what these TCP analysis warnings describe.
      await assertTsharkClean(env.capture!.bytes(), {
        allowWarnings: [
          /^Previous segment\(s\) not captured/,
          /^ACKed segment that wasn't captured/,
          /^This frame is a \(suspected\) (out-of-order|retransmission|spurious retransmission)/,
          /^(Duplicate ACK|TCP window specified by the receiver is now completely full)/,
          // A duplicated segment is reported back as a D-SACK (RFC 2883).
          /^D-SACK Sequence/,
        ],
      });
      env.finish();
    },
  }),
);

Deno.test({
  name: "tcp LISTEN + the Linux SYN of tun-curl4.pcap → SYN-ACK with MSS, SACK, TS echo, wscale",
  fn: async () => {
    const h = makeHost({ linkType: 101, addresses: ["10.77.0.2/24"], capture: true });
    const l = h.stack.listen({ hostname: "10.77.0.2", port: 8080 });
    const records = pcapRecords("linux-probes/tun-curl4.pcap");
    assert.equal(records.length, 3);
    const answers: Seg[] = [];
    let t = records[0]!.timestamp;
    for (const r of records) {
      h.runFor(r.timestamp - t); // the SYN is retransmitted after 1 s, then 2 s
      t = r.timestamp;
      const syn = parseSeg(r.data)!;
      const out = h.inject(r.data).map(parseSeg).filter((s): s is Seg => s !== undefined);
      const sa = one(out, { flags: "S.", ack: syn.seq + 1 });
      assert.equal(sa.dstPort, 46970);
      assert.equal(sa.mss, 1460);
      assert.ok(sa.sackOk);
      assert.equal(sa.ts?.[1], syn.ts![0]); // TSecr echoes the SYN's TSval
      assert.equal(sa.wscale, 7); // scaled for receiveBufferMax (6 MiB), as Linux for tcp_rmem[2]
      assert.deepEqual(sa.optionKinds, [2, 4, 8, 1, 3]);
      assert.ok(sa.dontFragment);
      answers.push(sa);
    }
    // One half-open connection, answered three times with the same ISN.
    assert.ok(answers.every((a) => a.seq === answers[0]!.seq));
    assert.deepEqual(h.stack.sockets().map((s) => s.state), ["LISTEN", "SYN-RECEIVED"]);
    // The completing ACK (built by the test) lands in the accept queue.
    const last = parseSeg(records[2]!.data)!;
    const ack = tcpSegment(
      {
        srcPort: 46970,
        dstPort: 8080,
        seq: last.seq + 1,
        ack: answers[0]!.seq + 1,
        flags: ".",
        window: 502,
        options: { raw: [1, 1, 8, 10, 0xe4, 0x3f, 0x3e, 0x00, ...u32(answers[2]!.ts![0])] },
      },
      "10.77.0.1",
      "10.77.0.2",
    );
    assert.deepEqual(
      h.inject(ipv4Packet({ src: "10.77.0.1", dst: "10.77.0.2", protocol: 6 }, ack)),
      [],
    );
    const conn = await l.accept();
    assert.deepEqual(conn.remoteAddr, { transport: "tcp", hostname: "10.77.0.1", port: 46970 });
    await assertTsharkClean(h.capture!.bytes(), {
      allowWarnings: [/^This frame is a \(suspected\) retransmission/],
    });
    conn.close();
    l.close();
    h.finish();
  },
});

function u32(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}
