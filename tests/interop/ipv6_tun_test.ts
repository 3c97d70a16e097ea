/**
 * IPv6 against Linux over a real TUN device inside a private network
 * namespace: Linux at fd00::1/64, the stack at fd00::2/64 with the ipv6,
 * icmpv6 and mld plugins loaded explicitly. `ping -6` both ways (the
 * stack's side through a crafted echo request on the `ipv6.route`
 * service: `stack.ping()` takes IPv4 only on this branch), 3000-byte
 * pings fragmented and reassembled both ways, 100 MB through `nc -6` into
 * a discard listener and 20 MB back through socat with the byte counts
 * checked, a UDP echo exchange with socat, and the stack's MLDv2 reports
 * and its answer to a query scapy sends. Every capture is checked with
 * tshark (see _netns.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DEFAULT_PLUGINS, type ProtocolPlugin, type Stack } from "../../mod.ts";
import { ACCEPT } from "../../stack/manifest.ts";
import type { RouteService } from "../../stack/services.ts";
import { pseudoHeaderSum } from "../../stack/ip/pseudo_header.ts";
import { finishChecksum, sumBytes } from "../../stack/wire/checksum.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { mldPlugin } from "../../stack/protocols/mld/mod.ts";
import { testPlugin } from "../_test_plugins.ts";
import { gated, type Requirement } from "../_require.ts";
import { randomChunks } from "../services/_services.ts";
import {
  type DeviceHarness,
  INTEROP_NEEDS,
  pingCommand,
  pingSummary,
  pingUnanswered,
  withDevice,
} from "./_netns.ts";
import {
  addIpv6Pair,
  assertBulkCaptureClean,
  cleanCaptureRows,
  eventually,
  LINUX6,
  ncIntoDiscard,
  STACK6,
  waitLinuxIpv6Ready,
  withIpv6Diagnostics,
} from "./_ipv6.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "ping", "tshark"];

/** ICMPv6 echo replies that reached the stack (whole IPv6 packets), seen at the input hook. */
function echoReplyProbe(): { plugin: ProtocolPlugin; replies: Uint8Array[] } {
  const replies: Uint8Array[] = [];
  const plugin = testPlugin(
    { name: "echo6probe", layer: "middlebox", hooks: [{ point: "input" }] },
    () => ({
      hook(_point, pkt) {
        const b = pkt.buf;
        const s = pkt.l3;
        if (pkt.family === 6 && b[s + 6] === 58 && b[s + 40] === 129) {
          replies.push(b.slice(s, pkt.end)); // copy: kept after the hook returns
        }
        return ACCEPT;
      },
    }),
  );
  return { plugin, replies };
}

/** The default plugins, plus ipv6, icmpv6 and mld unless they are defaults already. */
function ipv6Plugins(extra: readonly ProtocolPlugin[] = []): ProtocolPlugin[] {
  const names = new Set(DEFAULT_PLUGINS.map((p) => p.manifest.name));
  const more = [ipv6Plugin, icmpv6Plugin, mldPlugin].filter((p) => !names.has(p.manifest.name));
  return [...DEFAULT_PLUGINS, ...more, ...extra];
}

/** Options of {@linkcode withIpv6Tun}. */
interface Ipv6TunOptions {
  readonly extra?: readonly ProtocolPlugin[];
  readonly snaplen?: number;
  readonly checkCapture?: (pcap: string) => Promise<unknown>;
}

/** A TUN device with fd00::1/64 on Linux's side and fd00::2/64 on the stack's. */
async function withIpv6Tun(
  options: Ipv6TunOptions,
  fn: (h: DeviceHarness) => Promise<void>,
): Promise<void> {
  await withDevice({
    mode: "tun",
    plugins: () => ipv6Plugins(options.extra),
    ...(options.snaplen !== undefined ? { snaplen: options.snaplen } : {}),
    ...(options.checkCapture !== undefined ? { checkCapture: options.checkCapture } : {}),
  }, async (h) => {
    // TUN is point-to-point and NOARP: no DAD on either side.
    await addIpv6Pair(h);
    await withIpv6Diagnostics(h, () => fn(h));
  });
}

/** An echo request with `size` bytes of data (a ramp), sent through `ipv6.route`. */
function sendEcho(stack: Stack, dst: string, id: number, seq: number, size: number): Uint8Array {
  const route = stack.service<RouteService>("ipv6.route")!.route(IpAddress.parse(dst)!);
  if (typeof route === "string") throw new Error(`no route to ${dst}: ${route}`);
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + seq) & 0xff;
  const pkt = stack.pool.alloc(8 + size);
  const b = pkt.buf;
  const s = pkt.start;
  b.set([128, 0, 0, 0, id >> 8, id & 0xff, seq >> 8, seq & 0xff], s);
  b.set(data, s + 8);
  const sum = finishChecksum(
    sumBytes(pkt.data, pseudoHeaderSum(route.source.key, route.destination.key, 58, 8 + size)),
  );
  b[s + 2] = sum >> 8;
  b[s + 3] = sum & 0xff;
  const why = route.send(pkt, 58, 0, 0);
  if (why !== undefined) throw new Error(`cannot send the echo request: ${why}`);
  return data;
}

/** Checks a reply from Linux: its addresses, identifier, sequence and data. */
function checkReply(r: Uint8Array, id: number, seq: number, data: Uint8Array): void {
  assert.equal(IpAddress.v6(r.subarray(8, 24)).toString(), LINUX6);
  assert.equal(IpAddress.v6(r.subarray(24, 40)).toString(), STACK6);
  assert.equal(r[6], 58, "no extension header left after reassembly");
  assert.equal(r[44]! << 8 | r[45]!, id);
  assert.equal(r[46]! << 8 | r[47]!, seq);
  assert.deepEqual(r.subarray(48), data);
}

/**
 * Sends `count` echo requests of `size` bytes (identifier `id`) from the
 * stack to Linux one at a time, checks each reply's bytes, and returns the
 * replies (whole IPv6 packets).
 */
async function pingLinux(
  h: DeviceHarness,
  probe: { replies: Uint8Array[] },
  options: { id: number; size: number; count: number },
): Promise<Uint8Array[]> {
  for (let seq = 1; seq <= options.count; seq++) {
    const data = sendEcho(h.stack, LINUX6, options.id, seq, options.size);
    h.runner.kick();
    assert.ok(await eventually(() => probe.replies.length === seq, 10), `reply ${seq}`);
    checkReply(probe.replies[seq - 1]!, options.id, seq, data);
  }
  return probe.replies;
}

Deno.test(gated(NEEDS, {
  name:
    "ipv6 tun: Linux delivers to fd00::1 (its local route is in) once addIpv6Pair returns; a missing address is never ready",
  async fn() {
    await withIpv6Tun({}, async (h) => {
      // `ip -6 addr add` returns before Linux's addrconf work installs the
      // local route; a packet to fd00::1 before that is dropped (Ip6InAddrErrors).
      const local = await h.exec(["ip", "-6", "route", "show", "table", "local"], 5);
      assert.match(local.stdout, new RegExp(`^local ${LINUX6} dev ${h.dev.name} `, "m"));
      await assert.rejects(
        waitLinuxIpv6Ready(h.netns, h.dev.name, "fd00::77", 0.2),
        /Linux's fd00::77 on tun0 not ready after 0\.2 s: addr .*fd00::1\/64/,
      );
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "ipv6 tun: Linux pings the stack (ping -6 -c 10), 0% loss",
  async fn() {
    await withIpv6Tun({}, async (h) => {
      const r = await h.exec(
        pingCommand(STACK6, { count: 10, interval: 0.05, ipv6: true, deadline: 5 }),
        20,
      );
      assert.deepEqual(pingUnanswered(r.stdout, 10), [], r.stdout);
      // One reply per request (ping sends more than 10 only while a reply is late).
      const replies = h.stack.counters.value("icmpv6.tx.echo_replies");
      assert.ok(replies >= 10 && replies <= pingSummary(r.stdout).sent, `${replies} echo replies`);
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "ipv6 tun: the stack pings Linux (crafted echo requests) and checks each reply's bytes",
  async fn() {
    const probe = echoReplyProbe();
    await withIpv6Tun({ extra: [probe.plugin] }, async (h) => {
      const replies = await pingLinux(h, probe, { id: 0x6a6b, size: 56, count: 5 });
      for (const r of replies) assert.equal(r[7], 64, "Linux's hop limit");
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "ipv6 tun: ping -6 -s 3000 is answered (fragments reassembled and sent both ways)",
  async fn() {
    await withIpv6Tun({}, async (h) => {
      const r = await h.exec(
        pingCommand(STACK6, { count: 3, interval: 0.2, ipv6: true, size: 3000, deadline: 5 }),
        15,
      );
      assert.deepEqual(pingUnanswered(r.stdout, 3), [], r.stdout);
      const sent = pingSummary(r.stdout).sent; // more than 3 only while a reply was late
      const c = h.stack.counters;
      const replies = c.value("ipv6.tx.fragmented");
      assert.ok(
        replies >= 3 && replies <= sent,
        `${replies} fragmented replies of ${sent} requests`,
      );
      assert.equal(c.value("ipv6.rx.reassembled"), replies);
      assert.equal(
        c.value("ipv6.tx.fragments"),
        3 * replies,
        "3048 bytes over MTU 1500: 3 fragments each",
      );
    });
  },
}));

Deno.test(gated(NEEDS, {
  name:
    "ipv6 tun: a 3000-byte echo from the stack is fragmented, and Linux's fragmented reply reassembled",
  async fn() {
    const probe = echoReplyProbe();
    await withIpv6Tun({ extra: [probe.plugin] }, async (h) => {
      await pingLinux(h, probe, { id: 0x1234, size: 3000, count: 3 });
      assert.equal(h.stack.counters.value("ipv6.tx.fragmented"), 3);
      assert.equal(h.stack.counters.value("ipv6.rx.reassembled"), 3);
    });
  },
}));

Deno.test(gated(NEEDS, {
  name:
    "ipv6 tun: the stack's MLDv2 reports reach Linux as tshark decodes them (ff02::16, hop limit 1, Router Alert)",
  async fn() {
    let rows: string[][] = [];
    await withIpv6Tun({
      checkCapture: async (file) => {
        rows = await cleanCaptureRows(file, "icmpv6.type == 143", [
          "ipv6.src",
          "ipv6.dst",
          "ipv6.hlim",
          "ipv6.opt.router_alert",
          "icmpv6.mldr.mar.record_type",
          "icmpv6.mldr.mar.multicast_address",
        ]);
      },
    }, async (h) => {
      // The join of fd00::2's group was reported at once; the retransmission comes within 1 s.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(h.stack.counters.value("mld.tx.reports_v2"), 2);
    });
    assert.equal(rows.length, 2, rows.join("\n"));
    for (const row of rows) {
      assert.deepEqual(row, ["::", "ff02::16", "1", "0", "4", "ff02::1:ff00:2"]);
    }
  },
}));

Deno.test(gated([...NEEDS, "nc"], {
  name:
    "ipv6 tun: 100,000,000 bytes from nc -6 into a discard listener on the stack are all counted",
  async fn() {
    await withIpv6Tun({ snaplen: 128, checkCapture: assertBulkCaptureClean }, async (h) => {
      await ncIntoDiscard(h, "TUN");
    });
  },
}));

Deno.test(gated([...NEEDS, "socat"], {
  name: "ipv6 tun: 20,000,000 bytes from the stack to socat on Linux arrive with the same SHA-256",
  async fn() {
    const out = await Deno.makeTempFile({ prefix: "tcp6-", suffix: ".out" });
    try {
      await withIpv6Tun({ snaplen: 128, checkCapture: assertBulkCaptureClean }, async (h) => {
        const server = h.exec(["sh", "-c", `socat -u TCP6-LISTEN:40001,reuseaddr - > ${out}`], 60);
        // Connect once socat listens (before, Linux would answer RST: noise in the capture).
        let listening = false;
        for (let i = 0; i < 50 && !listening; i++) {
          const ss = await h.exec(["ss", "-Hltn", "sport = :40001"], 5);
          listening = ss.stdout.trim() !== "";
          if (!listening) await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(listening, "socat never listened");
        const connecting = h.stack.connect({ hostname: LINUX6, port: 40001 });
        h.runner.kick();
        const conn = await connecting;
        const sent = createHash("sha256");
        for (const chunk of randomChunks(6, 20_000_000)) {
          sent.update(chunk);
          // write() may take part of the buffer: count what it took.
          for (let off = 0; off < chunk.length;) off += await conn.write(chunk.subarray(off));
        }
        await conn.closeWrite();
        // socat closes after our FIN: wait for it, so no byte is cut off by close().
        assert.equal(await conn.read(new Uint8Array(1)), null);
        conn.close();
        const r = await server;
        assert.equal(r.code, 0, r.stderr);
        const got = await Deno.readFile(out);
        assert.equal(got.length, 20_000_000);
        assert.equal(createHash("sha256").update(got).digest("hex"), sent.digest("hex"));
      });
    } finally {
      await Deno.remove(out);
    }
  },
}));

Deno.test(gated([...NEEDS, "socat"], {
  name:
    "ipv6 tun: UDP echo with socat: 64 and 3000 bytes (fragmented both ways) come back the same",
  async fn() {
    await withIpv6Tun({}, async (h) => {
      const udp = h.stack.listenDatagram({ transport: "udp", hostname: STACK6, port: 7 });
      const echo = (async () => {
        try {
          for await (const [data, from] of udp) await udp.send(data, from);
        } catch { /* closed */ }
      })();
      try {
        for (const size of [64, 3000]) {
          let text = "";
          for (let i = 0; i < size; i++) text += String.fromCharCode(0x21 + (i * 13 + size) % 90);
          const file = await Deno.makeTempFile({ prefix: "udp6-" });
          try {
            await Deno.writeTextFile(file, text);
            const r = await h.exec(
              ["sh", "-c", `socat -T 2 -b 65000 - UDP6:[${STACK6}]:7 < ${file}`],
              10,
            );
            assert.equal(r.code, 0, r.stderr);
            assert.equal(r.stdout, text, `${size} bytes`);
          } finally {
            await Deno.remove(file);
          }
        }
        assert.ok(h.stack.counters.value("ipv6.rx.reassembled") >= 1);
        assert.ok(h.stack.counters.value("ipv6.tx.fragmented") >= 1);
      } finally {
        udp.close();
        await echo;
      }
    });
  },
}));

Deno.test(gated([...NEEDS, "scapy"], {
  name:
    "ipv6 tun: the stack answers an MLDv2 General Query and an MLDv1 query scapy sends, within their delays",
  async fn() {
    let rows: string[][] = [];
    await withIpv6Tun({
      checkCapture: async (file) => {
        rows = await cleanCaptureRows(
          file,
          "icmpv6.type == 130 || icmpv6.type == 131 || icmpv6.type == 143",
          [
            "frame.time_relative",
            "ipv6.src",
            "ipv6.dst",
            "icmpv6.type",
            "icmpv6.mldr.mar.record_type",
            "icmpv6.mld.multicast_address",
          ],
        );
      },
    }, async (h) => {
      const count = (name: string) => h.stack.counters.value(name);
      // The join's report and its retransmission (within 1 s) are out.
      assert.ok(await eventually(() => count("mld.tx.reports_v2") === 2, 5));
      const py = (mld: string) =>
        "from scapy.all import *\n" +
        "p = IPv6(src='fe80::99', dst='ff02::1', hlim=1)/" +
        `IPv6ExtHdrHopByHop(options=[RouterAlert(value=0), PadN(optdata=b'')])/${mld}\n` +
        `sendp(p, iface='${h.dev.name}', verbose=0)\n`;
      const v2 = await h.exec(["/usr/bin/python3", "-c", py("ICMPv6MLQuery2(mrd=500)")], 20);
      assert.equal(v2.code, 0, v2.stderr);
      assert.ok(await eventually(() => count("mld.tx.reports_v2") === 3, 5), "MLDv2 answer");
      assert.equal(count("mld.rx.queries_v2"), 1);
      const v1 = await h.exec(["/usr/bin/python3", "-c", py("ICMPv6MLQuery(mrd=500)")], 20);
      assert.equal(v1.code, 0, v1.stderr);
      assert.ok(await eventually(() => count("mld.tx.reports_v1") === 1, 5), "MLDv1 answer");
      assert.equal(count("mld.rx.queries_v1"), 1);
    });
    // Rows: the join's two reports, the v2 query, its answer, the v1 query, its answer.
    const kinds = rows.map((r) => `${r[3]} ${r[4]}`);
    assert.deepEqual(kinds, ["143 4", "143 4", "130 ", "143 2", "130 ", "131 "], rows.join("\n"));
    const at = (i: number) => Number(rows[i]![0]);
    assert.ok(at(3) - at(2) <= 0.5 + 0.1, `MLDv2 answer after ${at(3) - at(2)} s`);
    assert.ok(at(5) - at(4) <= 0.5 + 0.1, `MLDv1 answer after ${at(5) - at(4)} s`);
    assert.deepEqual(
      rows[5]!.slice(1, 3),
      ["::", "ff02::1:ff00:2"],
      "an MLDv1 Report goes to the group",
    );
  },
}));
