/**
 * IPv6 over a real Linux TAP device (Ethernet) inside a private network
 * namespace, with the ipv6, icmpv6, ndp and mld plugins loaded explicitly
 * (and slaac where a test needs it): Linux at fd00::1/64, the stack at
 * fd00::2/64 after the ndp plugin's DAD. `ping -6` both ways (the stack's
 * side through crafted echo requests on `ipv6.route`: `stack.ping()` may not
 * take IPv6 yet) with resolution by Neighbor Discovery both ways, Linux's
 * `ip -6 neigh` showing the stack REACHABLE at its MAC, 100 MB through
 * `nc -6` into a discard listener with the byte count checked, and MLDv2:
 * reports to 33:33:00:00:00:16 and answers to the queries scapy sends;
 * `curl -g 'http://[fe80::…%tap0]:8080/'` to the stack's link-local address
 * once Linux has one of its own (the harness's `addrgenmode none` leaves it
 * none, and Linux then has no fe80::/64 route: ENETUNREACH). The
 * SLAAC exchanges with Linux over TAP (RAs both ways) are in
 * tests/slaac/tap_interop_test.ts. tshark checks every capture.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DEFAULT_PLUGINS, type PluginEntry, type ProtocolPlugin } from "../../mod.ts";
import { formatMac } from "../../stack/wire/address.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { mldPlugin } from "../../stack/protocols/mld/mod.ts";
import { ndpPlugin } from "../../stack/protocols/ndp/mod.ts";
import { sendEcho } from "../ipv6/_lan.ts";
import { pluginsWith } from "../_test_plugins.ts";
import { gated, type Requirement } from "../_require.ts";
import {
  type DeviceHarness,
  INTEROP_NEEDS,
  ip,
  pingCommand,
  pingSummary,
  pingUnanswered,
  withDevice,
} from "./_netns.ts";
import { readUntil } from "./_tcp_interop.ts";
import {
  addIpv6Pair,
  assertBulkCaptureClean,
  cleanCaptureRows,
  eventually,
  LINUX6,
  ncIntoDiscard,
  STACK6,
  waitLinuxIpv6Ready,
} from "./_ipv6.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "ping", "tshark"];
const STACK_MAC = new Uint8Array([0x02, 0x5e, 0x10, 0x00, 0x00, 0x02]);
/** The stack's link-local address in the MLD test. */
const STACK_LL = "fe80::5e10:2";

/**
 * The defaults plus ipv6, icmpv6, ndp and mld (those not among the
 * defaults), with `options`, less the plugins named in `without`.
 */
function plugins(
  options: Record<string, Record<string, number | boolean>> = {},
  without: readonly string[] = [],
) {
  return (): PluginEntry[] => {
    const names = new Set(DEFAULT_PLUGINS.map((p) => p.manifest.name));
    const more: ProtocolPlugin[] = [ipv6Plugin, icmpv6Plugin, ndpPlugin, mldPlugin].filter((p) =>
      !names.has(p.manifest.name)
    );
    return pluginsWith(options, more).filter((e) => !without.includes(e.plugin.manifest.name));
  };
}

/** The state of the stack's IPv6 address `a`. */
function stateOf(h: DeviceHarness, a: string): string | undefined {
  return h.stack.interfaces.list()[0]!.ipv6Address(IpAddress.parse(a)!.bytes())?.state;
}

/** Linux's neighbour entry for `addr`: `lladdr` and state, or undefined. */
async function linuxNeighbor(h: DeviceHarness, addr: string) {
  const out = await ip(["-6", "neigh", "show", addr, "dev", h.dev.name], { netns: h.netns });
  const m = /lladdr (\S+) .*?\b([A-Z]+)\s*$/m.exec(out);
  return m === null ? undefined : { mac: m[1]!, state: m[2]! };
}

/**
 * A TAP device with fd00::1/64 on Linux's side (no DAD there) and fd00::2/64
 * on the stack's, once the ndp plugin's DAD has made it preferred.
 */
async function withIpv6Tap(
  options: { readonly snaplen?: number; readonly checkCapture?: (f: string) => Promise<unknown> },
  fn: (h: DeviceHarness) => Promise<void>,
): Promise<void> {
  await withDevice({
    mode: "tap",
    mac: STACK_MAC,
    plugins: plugins(),
    ...(options.snaplen !== undefined ? { snaplen: options.snaplen } : {}),
    ...(options.checkCapture !== undefined ? { checkCapture: options.checkCapture } : {}),
  }, async (h) => {
    await addIpv6Pair(h);
    assert.equal(stateOf(h, STACK6), "tentative", "DAD first");
    // At most 1 s of random delay, one probe, 1 s of waiting.
    assert.ok(await eventually(() => stateOf(h, STACK6) === "preferred", 5), "DAD passed");
    // One pass per address: fd00::2 and the link-local address slaac gave the interface.
    const addresses = () => h.stack.interfaces.list()[0]!.ipv6;
    assert.ok(await eventually(() => addresses().every((a) => a.state === "preferred"), 5));
    assert.equal(addresses().length, 2);
    assert.equal(h.stack.counters.value("ndp.dad.passed"), 2);
    await fn(h);
  });
}

Deno.test(gated(NEEDS, {
  name:
    "ipv6 tap: Linux pings the stack (ping -6), 0% loss; ip -6 neigh shows it REACHABLE at the stack's MAC",
  async fn() {
    await withIpv6Tap({}, async (h) => {
      const r = await h.exec(
        pingCommand(STACK6, { count: 10, interval: 0.05, ipv6: true, deadline: 5 }),
        20,
      );
      assert.deepEqual(pingUnanswered(r.stdout, 10), [], r.stdout);
      assert.deepEqual(await linuxNeighbor(h, STACK6), {
        mac: formatMac(STACK_MAC),
        state: "REACHABLE",
      });
      const c = h.stack.counters;
      assert.ok(c.value("ndp.rx.solicitations") >= 1, "Linux solicited the stack");
      assert.ok(c.value("ndp.tx.advertisements") >= 1, "the stack answered");
      // One reply per request (ping sends more than 10 only while a reply is late).
      const replies = c.value("icmpv6.tx.echo_replies");
      assert.ok(replies >= 10 && replies <= pingSummary(r.stdout).sent, `${replies} echo replies`);
    });
  },
}));

Deno.test(gated(NEEDS, {
  name:
    "ipv6 tap: the stack resolves Linux by Neighbor Discovery and pings it (crafted echo requests), every reply back",
  async fn() {
    let rows: string[][] = [];
    await withIpv6Tap({
      checkCapture: async (file) => {
        rows = await cleanCaptureRows(file, "icmpv6.type == 135 || icmpv6.type == 136", [
          "eth.src",
          "eth.dst",
          "ipv6.src",
          "ipv6.dst",
          "icmpv6.type",
          "icmpv6.nd.ns.target_address",
        ]);
      },
    }, async (h) => {
      for (let seq = 1; seq <= 5; seq++) {
        sendEcho(h.stack, LINUX6, seq);
        h.runner.kick();
        assert.ok(
          await eventually(() => h.stack.counters.value("icmpv6.rx.echo_replies") === seq, 3),
          `reply ${seq}`,
        );
      }
      const entry = h.stack.neighbors().find((e) => e.address === LINUX6);
      assert.equal(entry?.mac, formatMac(h.dev.linuxMac!));
      assert.equal(entry?.state, "REACHABLE");
      assert.ok(h.stack.counters.value("ndp.tx.solicitations") >= 1);
    });
    // The stack's solicitation for Linux: from its MAC and address to the solicited-node group.
    const ours = rows.filter((r) =>
      r[0] === formatMac(STACK_MAC) && r[4] === "135" && r[5] === LINUX6
    );
    assert.ok(ours.length >= 1, rows.join("\n"));
    assert.deepEqual(ours[0]!.slice(1), [
      "33:33:ff:00:00:01",
      STACK6,
      "ff02::1:ff00:1",
      "135",
      LINUX6,
    ]);
  },
}));

Deno.test(gated([...NEEDS, "nc"], {
  name:
    "ipv6 tap: 100,000,000 bytes from nc -6 into a discard listener on the stack are all counted",
  async fn() {
    await withIpv6Tap({
      snaplen: 128,
      checkCapture: assertBulkCaptureClean,
    }, async (h) => {
      await ncIntoDiscard(h, "TAP");
      assert.equal((await linuxNeighbor(h, STACK6))?.mac, formatMac(STACK_MAC));
    });
  },
}));

Deno.test(gated([...NEEDS, "scapy"], {
  name:
    "ipv6 tap: MLDv2 reports go to 33:33:00:00:00:16, and scapy's General and group queries are answered",
  async fn() {
    let rows: string[][] = [];
    await withDevice({
      mode: "tap",
      mac: STACK_MAC,
      // No DAD here: the link-local address is usable at once, so every
      // report leaves from it (during DAD they would leave from ::). No
      // slaac: its link-local address would join its group before tcpdump
      // runs; this one is added once the capture is on.
      plugins: plugins({ ndp: { dadTransmits: 0 } }, ["slaac"]),
      checkCapture: async (file) => {
        rows = await cleanCaptureRows(file, "icmpv6.type == 130 || icmpv6.type == 143", [
          "frame.time_relative",
          "eth.src",
          "eth.dst",
          "ipv6.src",
          "ipv6.hlim",
          "icmpv6.type",
          "icmpv6.mldr.mar.record_type",
          "icmpv6.mldr.mar.multicast_address",
        ]);
      },
    }, async (h) => {
      h.stack.addAddress(h.stack.interfaces.list()[0]!.index, `${STACK_LL}/64`);
      h.runner.kick();
      const reports = () => h.stack.counters.value("mld.tx.reports_v2");
      assert.ok(await eventually(() => reports() === 2, 5), "the join and its retransmission");
      const send = (dstMac: string, dst: string, mld: string) =>
        h.exec([
          "/usr/bin/python3",
          "-c",
          "from scapy.all import *\n" +
          `p = Ether(dst='${dstMac}')/IPv6(src='fe80::99', dst='${dst}', hlim=1)/` +
          `IPv6ExtHdrHopByHop(options=[RouterAlert(value=0), PadN(optdata=b'')])/${mld}\n` +
          `sendp(p, iface='${h.dev.name}', verbose=0)\n`,
        ], 20);
      const general = await send("33:33:00:00:00:01", "ff02::1", "ICMPv6MLQuery2(mrd=300)");
      assert.equal(general.code, 0, general.stderr);
      assert.ok(await eventually(() => reports() === 3, 5), "the General Query's answer");
      const group = await send(
        "33:33:ff:10:00:02",
        "ff02::1:ff10:2",
        "ICMPv6MLQuery2(mrd=300, mladdr='ff02::1:ff10:2')",
      );
      assert.equal(group.code, 0, group.stderr);
      assert.ok(await eventually(() => reports() === 4, 5), "the group query's answer");
      assert.equal(h.stack.counters.value("mld.rx.queries_v2"), 2);
      assert.equal(h.stack.counters.value("mld.tx.reports_v2"), 4);
    });
    const mac = formatMac(STACK_MAC);
    const ours = rows.filter((r) => r[1] === mac);
    assert.equal(ours.length, 4, rows.join("\n"));
    for (const r of ours) {
      assert.deepEqual(r.slice(2, 6), ["33:33:00:00:00:16", STACK_LL, "1", "143"]);
      assert.equal(r[7], "ff02::1:ff10:2");
    }
    assert.deepEqual(ours.map((r) => r[6]), ["4", "4", "2", "2"], "joins, then two answers");
    const queries = rows.filter((r) => r[5] === "130").map((r) => Number(r[0]));
    const answers = ours.slice(2).map((r) => Number(r[0]));
    assert.equal(queries.length, 2);
    for (let i = 0; i < 2; i++) {
      const dt = answers[i]! - queries[i]!;
      assert.ok(dt >= 0 && dt <= 0.3 + 0.1, `answer ${i + 1} after ${dt} s`);
    }
  },
}));

Deno.test(gated([...NEEDS, "curl"], {
  name:
    "ipv6 tap: curl -g 'http://[fe80::…%tap]:8080/' reaches a listener on the stack's link-local address; the response bytes are exact",
  async fn() {
    await withIpv6Tap({}, async (h) => {
      const ll = h.stack.interfaces.list()[0]!.ipv6.find((a) => a.origin === "link-local")!;
      const stackLl = IpAddress.v6(ll.address).toString();
      const body = "hello over a link-local address\n";
      const response = `HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      using listener = h.stack.listen({ hostname: "::", port: 8080 });
      let peer = "";
      const serve = (async () => {
        const conn = await listener.accept();
        peer = conn.remoteAddr.hostname;
        const request = await readUntil(conn, "\r\n\r\n");
        await conn.write(new TextEncoder().encode(response));
        conn.close();
        return request;
      })();
      serve.catch(() => {}); // awaited below unless curl failed first
      const url = `http://[${stackLl}%${h.dev.name}]:8080/`;
      const curl = ["curl", "-sS", "-i", "--max-time", "5", "-g", url];
      // The harness keeps Linux's IPv6 quiet (addrgenmode none): no link-local
      // address on the TAP, so no fe80::/64 route, and Linux itself refuses to
      // connect (ENETUNREACH) before a frame leaves. That was the whole TAP
      // failure; the TUN test's Linux kept its link-local address.
      const before = await h.exec(curl, 10);
      assert.equal(before.code, 7, before.stderr);
      assert.equal(h.stack.counters.value("tcp.in_segs"), 0, "nothing reached the stack");
      await ip(["-6", "addr", "add", "fe80::1/64", "dev", h.dev.name, "nodad"], {
        netns: h.netns,
      });
      await waitLinuxIpv6Ready(h.netns, h.dev.name, "fe80::1");
      const r = await h.exec(curl, 10);
      assert.equal(r.code, 0, `curl ${url}: ${r.stderr}`);
      assert.equal(r.stdout, response);
      const request = await serve;
      assert.match(request, /^GET \/ HTTP\/1\.1\r\n/);
      assert.equal(peer, "fe80::1", "Linux connected from its link-local address");
    });
  },
}));
