/**
 * Replaying what real Linux tools sent (tests/fixtures/pcaps/linux-probes) into a
 * virtual host: the answers written to the output capture are the ones a
 * host should give, and Wireshark finds them well formed, with and without
 * the TCP plugin.
 */
import assert from "node:assert/strict";
import { createStack, DEFAULT_PLUGINS, ManualClock, type Stack } from "../../mod.ts";
import {
  type CaptureWriter,
  parseCapture,
  PcapngWriter,
  PcapWriter,
  replayCapture,
  ReplayDriver,
  type ReplaySummary,
} from "../../drivers/pcapfile/mod.ts";
import { decodeFrame } from "../../stack/wire/decode.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { pcapPath } from "../_fixtures.ts";
import { tsharkFields } from "../decode/_tshark_fields.ts";

const PROBES = pcapPath("linux-probes");
interface Replayed {
  readonly summary: ReplaySummary;
  readonly output: Uint8Array;
  readonly stack: Stack;
}

/** Replays `file` into a host with `address` on one interface of `linkType`. */
async function replay(
  file: string,
  options: {
    linkType: number;
    address: string;
    mac?: Uint8Array;
    merge?: boolean;
    withoutTcp?: boolean;
    before?: (stack: Stack) => void;
  },
): Promise<Replayed> {
  // As `cli.ts replay` builds its host: without the plugins that need a live
  // link (ndp, slaac, mld), so the capture's peers are answered and nothing else.
  const leftOut = ["ndp", "slaac", "mld", ...(options.withoutTcp ? ["tcp"] : [])];
  const stack = createStack({
    clock: new ManualClock(),
    seed: 1,
    plugins: DEFAULT_PLUGINS.filter((p) => !leftOut.includes(p.manifest.name)),
  });
  const driver = new ReplayDriver({
    linkType: options.linkType,
    ...(options.mac ? { mac: options.mac } : { mac: new Uint8Array([2, 0, 0, 0, 0, 2]) }),
  });
  stack.addInterface({ driver, addresses: [options.address] });
  options.before?.(stack);
  const writer: CaptureWriter & { bytes(): Uint8Array } = options.merge
    ? new PcapngWriter({ interfaces: [{ linkType: options.linkType }] })
    : new PcapWriter({ linkType: options.linkType });
  const summary = await replayCapture(file, {
    stack,
    drivers: [driver],
    output: writer,
    ...(options.merge ? { merge: true } : {}),
  });
  return { summary, output: writer.bytes(), stack };
}

function done(r: Replayed): void {
  r.stack.close();
  assert.equal(r.stack.pool.outstanding, 0, "packet buffers leaked");
}

Deno.test({
  name: "replay tun-ping4 into 10.77.0.2/24: an echo reply for each request",
  async fn() {
    const r = await replay(`${PROBES}/tun-ping4.pcap`, { linkType: 101, address: "10.77.0.2/24" });
    assert.deepEqual([r.summary.read, r.summary.replayed, r.summary.accepted], [5, 5, 3]);
    assert.deepEqual(r.summary.acceptedBy, { icmp: 3 });
    assert.deepEqual(r.summary.sentBy, { "icmp echo reply": 3 });
    // The two IPv6 router solicitations (to ff02::2): a host is no router.
    assert.deepEqual(r.summary.dropped, { "ipv6.rx.not_for_us": 2 });
    assert.deepEqual(r.summary.unbound, {});
    const recs = parseCapture(r.output).records;
    assert.deepEqual(
      recs.map((x) => x.timestamp),
      [1795311262856140, 1795311263367198, 1795311263879121], // the requests' capture times
    );
    const fields = await tsharkFields(r.output, [
      "ip.src",
      "ip.dst",
      "icmp.type",
      "icmp.code",
      "icmp.ident",
      "icmp.seq",
      "data.len",
    ]);
    // skipped only outside CI (the reason is printed); under CI tsharkFields throws
    if (fields.skipped === undefined) {
      assert.deepEqual(
        fields.rows,
        [1, 2, 3].map((seq) => [
          "10.77.0.2",
          "10.77.0.1",
          "0",
          "0",
          "1584",
          String(seq),
          "48", // tshark takes the first 8 of the 56 data bytes for a timestamp
        ]),
      );
    }
    await assertTsharkClean(r.output);
    done(r);
  },
});

Deno.test({
  name: "replay tap-arping into 10.78.0.2/24: an ARP reply for each request",
  async fn() {
    const mac = new Uint8Array([2, 0, 0, 0, 0x78, 2]);
    const r = await replay(`${PROBES}/tap-arping.pcap`, {
      linkType: 1,
      address: "10.78.0.2/24",
      mac,
      merge: true,
    });
    assert.equal(r.summary.acceptedBy.arp, 3);
    assert.deepEqual(r.summary.sentBy, { "arp reply": 3 });
    const fields = await tsharkFields(r.output, [
      "frame.number",
      "eth.src",
      "eth.dst",
      "arp.opcode",
      "arp.src.hw_mac",
      "arp.src.proto_ipv4",
      "arp.dst.hw_mac",
      "arp.dst.proto_ipv4",
      "frame.len",
    ], ["-Y", "arp.opcode == 2"]);
    // skipped only outside CI (the reason is printed); under CI tsharkFields throws
    if (fields.skipped === undefined) {
      // Each reply right after its request in the merged file.
      assert.deepEqual(
        fields.rows,
        [7, 10, 12].map((n) => [
          String(n),
          "02:00:00:00:78:02",
          "02:00:00:77:00:01",
          "2",
          "02:00:00:00:78:02",
          "10.78.0.2",
          "02:00:00:77:00:01",
          "10.78.0.1",
          "60", // padded to the Ethernet minimum
        ]),
      );
    }
    await assertTsharkClean(r.output);
    done(r);
  },
});

Deno.test({
  name: "replay tun-curl4 without TCP: every SYN dropped, and the summary says why",
  async fn() {
    const r = await replay(`${PROBES}/tun-curl4.pcap`, {
      linkType: 101,
      address: "10.77.0.2/24",
      withoutTcp: true,
    });
    assert.equal(r.summary.replayed, 3);
    assert.equal(r.summary.accepted, 0);
    const drops = Object.entries(r.summary.dropped);
    assert.equal(drops.reduce((n, [, c]) => n + c, 0), 3);
    // Either ipv4 refuses the protocol (and answers ICMP protocol
    // unreachable, RFC 1122 §3.2.2.1) or nothing binds ip.protocol 6.
    for (const [reason] of drops) {
      assert.match(reason, /^(ipv4\.rx\.unknown_protocol|dispatcher\.rx\.no_binding)$/);
    }
    if (r.summary.unbound["ip.protocol 6"] === undefined) {
      assert.deepEqual(r.summary.sentBy, { "icmp protocol unreachable": 3 });
      await assertTsharkClean(r.output);
    }
    for (const k of Object.keys(r.summary.sentBy)) assert.ok(!k.startsWith("tcp"), k);
    done(r);
  },
});

/** The TCP flags of each TCP segment the host sent, tcpdump style. */
function tcpAnswers(output: Uint8Array): string[] {
  return parseCapture(output).records
    .map((x) => decodeFrame(x.data, x.linkType))
    .filter((f) => f.protocol === "tcp")
    .map((f) => f.layers.find((l) => l.name === "tcp")!.notes.flags!.split(" ")[0]!);
}

Deno.test({
  name: "tcp CLOSED + SYN → RST,ACK for each of tun-curl4's SYNs",
  async fn() {
    const r = await replay(`${PROBES}/tun-curl4.pcap`, { linkType: 101, address: "10.77.0.2/24" });
    assert.deepEqual(tcpAnswers(r.output), ["[R.]", "[R.]", "[R.]"]);
    assert.deepEqual(r.summary.sentBy, { "tcp [R.]": 3 });
    await assertTsharkClean(r.output, { allowWarnings: [RST_WARNING] });
    done(r);
  },
});

/** tshark flags every RST with this expert warning; here RSTs are the point. */
const RST_WARNING = /^Connection reset \(RST\)$/;

interface Listening {
  listen(options: { port: number }): { close(): void };
}

interface StaticArp {
  addStatic(ifindex: number, address: number, mac: Uint8Array): void;
}

Deno.test({
  name: "tcp LISTEN + SYN → SYN-ACK; the client's other segments, for another ISS, → RST",
  async fn() {
    // http_ip4and6.pcapng: 172.16.16.140 fetches http://172.16.16.139/ (and
    // the same over IPv6, which this host does not speak). We play the
    // server 172.16.16.139 with its MAC, listening on port 80: our SYN-ACK
    // has our own ISS, so the client's ACK of the real server's ISS is not
    // acceptable in SYN-RECEIVED and gets a RST (RFC 9293 §3.10.7.4).
    let listener: { close(): void } | undefined;
    const r = await replay(pcapPath("http_ip4and6.pcapng"), {
      linkType: 1,
      address: "172.16.16.139/24",
      mac: new Uint8Array([0x00, 0x0c, 0x29, 0x1f, 0xa7, 0x55]),
      before: (stack) => {
        listener = stack.service<Listening>("tcp.sockets")!.listen({ port: 80 });
        // The recorded client cannot answer our ARP request: give its MAC.
        stack.service<StaticArp>("arp.resolve")!.addStatic(
          0,
          0xac10108c, // 172.16.16.140
          new Uint8Array([0x00, 0x0c, 0x29, 0xd3, 0x46, 0xdd]),
        );
      },
    });
    // Answers: the SYN-ACK, then a RST for each of the client's 5 other
    // segments (<SEQ=SEG.ACK><CTL=RST>, no ACK bit), and retransmitted
    // SYN-ACKs as the SYN-RECEIVED timer fires between and after them.
    const answers = tcpAnswers(r.output);
    assert.equal(answers[0], "[S.]");
    assert.equal(answers.filter((a) => a === "[R]").length, 5);
    for (const a of answers) assert.match(a, /^\[(S\.|R)\]$/);
    assert.equal(r.summary.sentBy["tcp [R]"], 5);
    assert.equal(r.summary.dropped["tcp.rx.bad_ack"], 5);
    await assertTsharkClean(r.output, { allowWarnings: [RST_WARNING] });
    listener?.close();
    done(r);
  },
});
