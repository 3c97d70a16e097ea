/**
 * IPv4 options against Linux over a real TUN device: `ping -R` and
 * `ping -T` get their options back filled in by the stack, and an echo
 * request with a malformed option (sent raw by scapy) gets ICMP Parameter
 * Problem with the right pointer. Linux is 10.0.0.1, the stack 10.0.0.2,
 * both inside a private namespace per test (`withDevice`), deleted
 * afterwards; the tcpdump capture of each test is checked with tshark.
 *
 * @module
 */
import assert from "node:assert/strict";
import { gated } from "../_require.ts";
import { DEFAULT_PLUGINS } from "../../mod.ts";
import {
  type DeviceHarness,
  INTEROP_NEEDS,
  LINUX_ADDRESS,
  STACK_ADDRESS,
  withDevice,
} from "./_netns.ts";
import { assertTsharkClean, CHECKSUM_PREFERENCES, tsharkRows } from "../_tshark.ts";

const SCAPY = "/usr/bin/python3";

/**
 * A stack on a TUN device in a namespace of its own (`withDevice`), with IP
 * timestamps in real milliseconds since midnight UT (`epoch`: the wall clock
 * read here, in the test, never in the stack); the capture must be clean in
 * tshark but for `allowWarnings`.
 */
function withStack(fn: (e: DeviceHarness) => Promise<void>, allowWarnings?: RegExp): Promise<void> {
  return withDevice({
    mode: "tun",
    plugins: (clock) => {
      const epoch = Date.now() * 1000 - clock.now();
      return DEFAULT_PLUGINS.map((plugin) =>
        plugin.manifest.name === "ipv4" ? { plugin, options: { epoch } } : plugin
      );
    },
    checkCapture: (pcap) =>
      assertTsharkClean(pcap, allowWarnings ? { allowWarnings: [allowWarnings] } : {}),
  }, fn);
}

/** tshark fields of the frames matching `filter`, one line per frame, tab-separated. */
function fields(pcap: string, filter: string, names: string[]): Promise<string[][]> {
  return tsharkRows(pcap, filter, names, CHECKSUM_PREFERENCES);
}

Deno.test(gated(INTEROP_NEEDS, {
  name: "interop ipv4 options: ping -R lists the stack's address in the reply's Record Route",
  async fn() {
    await withStack(async (e) => {
      const r = await e.exec(["ping", "-n", "-R", "-c", "1", "-W", "2", STACK_ADDRESS], 10);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 packets transmitted, 1 received/);
      // iputils prints the route after "RR:", one address per line.
      const m = /RR:\s+([\d.\s]+)/.exec(r.stdout);
      assert.ok(m, r.stdout);
      const route = m[1]!.trim().split(/\s+/);
      // Linux records itself as it sends, the stack on receive and on reply
      // (as Linux does), Linux again on receiving the reply.
      assert.deepEqual(route, [LINUX_ADDRESS, STACK_ADDRESS, STACK_ADDRESS, LINUX_ADDRESS]);
      // On the wire: the reply carries RR with the stack's two entries.
      const rows = await fields(e.pcap, "icmp.type == 0", ["ip.rec_rt", "ip.opt.ptr"]);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]![0], `${LINUX_ADDRESS},${STACK_ADDRESS},${STACK_ADDRESS}`);
      assert.equal(rows[0]![1], "16");
    });
  },
}));

Deno.test(gated(INTEROP_NEEDS, {
  name: "interop ipv4 options: ping -T tsonly and tsandaddr get the stack's timestamps",
  async fn() {
    await withStack(async (e) => {
      const r = await e.exec(
        ["ping", "-n", "-T", "tsonly", "-c", "1", "-W", "2", STACK_ADDRESS],
        10,
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      // "TS: 	<ms> absolute" then relative steps, one per hop stamp.
      const m = /TS:\s+(\d+) absolute\s+((?:-?\d+\s+)+)/.exec(r.stdout);
      assert.ok(m, r.stdout);
      const deltas = m[2]!.trim().split(/\s+/).map(Number);
      assert.equal(deltas.length, 3, r.stdout); // stack on receive, on reply, Linux on receipt
      for (const d of deltas) assert.ok(Math.abs(d) < 1000, r.stdout); // real time, near Linux's
      const rows = await fields(e.pcap, "icmp.type == 0", ["ip.opt.ptr", "ip.opt.flag"]);
      // Linux stamped once as it sent, the stack twice: pointer 5 + 3 * 4.
      assert.deepEqual(rows, [["17", "0x00"]]);

      const a = await e.exec(
        ["ping", "-n", "-T", "tsandaddr", "-c", "1", "-W", "2", STACK_ADDRESS],
        10,
      );
      assert.equal(a.code, 0, a.stdout + a.stderr);
      // tsandaddr lines: "<address>	<ms> absolute" then "<address>	<delta>".
      const lines = /TS:([\s\S]*?)\n\n/.exec(a.stdout + "\n\n")![1]!;
      const addresses = [...lines.matchAll(/(\d+\.\d+\.\d+\.\d+)\s+-?\d+/g)].map((x) => x[1]);
      assert.deepEqual(addresses, [LINUX_ADDRESS, STACK_ADDRESS, STACK_ADDRESS, LINUX_ADDRESS]);
    });
  },
}));

const SCAPY_SCRIPT = `
import sys
from scapy.all import IP, ICMP, IPOption, sr1, conf, raw
conf.verb = 0
opt = bytes.fromhex(sys.argv[1])
req = IP(dst="${STACK_ADDRESS}", options=[IPOption(opt)]) / ICMP(id=0x77, seq=1) / (b"x" * 16)
ans = sr1(req, iface=sys.argv[2], timeout=3)
print(raw(ans).hex() if ans is not None else "none")
`;

for (
  const [what, option, pointer, warning] of [
    ["Record Route with pointer 3", "0707030000000000", 22, /Pointer points before first address/],
    [
      "an option length running past the header",
      "0107" + "0b" + "0400000000",
      22,
      /option goes past end of options/,
    ],
  ] as const
) {
  Deno.test(gated([...INTEROP_NEEDS, "scapy"], {
    name:
      `interop ipv4 options: scapy's echo request with ${what} gets Parameter Problem, pointer ${pointer}`,
    async fn() {
      await withStack(async (e) => {
        const r = await e.exec([SCAPY, "-c", SCAPY_SCRIPT, option, e.dev.name], 20);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const hex = r.stdout.trim().split("\n").pop()!;
        assert.notEqual(hex, "none", r.stderr);
        const b = Uint8Array.from(hex.match(/../g)!.map((x) => parseInt(x, 16)));
        const hl = (b[0]! & 0x0f) * 4;
        assert.equal(b[9], 1); // ICMP
        assert.deepEqual([b[hl], b[hl + 1]], [12, 0]); // Parameter Problem, code 0
        assert.equal(b[hl + 4], pointer);
        // The quote is our request's header: the option bytes as sent.
        const q = hl + 8;
        const sent = Uint8Array.from(option.match(/../g)!.map((x) => parseInt(x, 16)));
        assert.deepEqual([...b.subarray(q + 20, q + 20 + sent.length)], [...sent]);
        assert.equal(e.stack.counters.snapshot()["ipv4.rx.bad_options"], 1);
        // tshark reads the same pointer off the capture.
        const rows = await fields(e.pcap, "icmp.type == 12", ["icmp.pointer"]);
        assert.deepEqual(rows, [[String(pointer)]]);
      }, warning);
    },
  }));
}

Deno.test(gated(INTEROP_NEEDS, {
  name:
    "interop ipv4 options: a raw echo request with Record Route (sendRawIpv4) — Linux echoes RR",
  async fn() {
    await withStack(async (e) => {
      // ICMP echo request, id 0x99 seq 1, 8 data bytes.
      const icmp = new Uint8Array([8, 0, 0, 0, 0, 0x99, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8]);
      let sum = 0;
      for (let i = 0; i < icmp.length; i += 2) sum += (icmp[i]! << 8) | icmp[i + 1]!;
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      icmp[2] = (~sum >> 8) & 0xff;
      icmp[3] = ~sum & 0xff;
      const rr = [1, 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0]; // NOP, RR with two empty slots
      const packet = new Uint8Array(20 + rr.length + icmp.length);
      packet[0] = 0x40 | ((20 + rr.length) >> 2);
      packet[8] = 64;
      packet[9] = 1;
      packet.set([10, 0, 0, 1], 16); // source left 0: the stack fills in 10.0.0.2
      packet.set(rr, 20);
      packet.set(icmp, 20 + rr.length);
      e.stack.sendRawIpv4(packet);
      // Wait for Linux's reply (the stack counts it: no ping of ours is waiting).
      for (let i = 0; i < 50; i++) {
        if ((e.stack.counters.snapshot()["icmp.rx.echo_replies"] ?? 0) > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(e.stack.counters.snapshot()["icmp.rx.echo_replies"], 1);
      const req = await fields(e.pcap, "icmp.type == 8", ["ip.src", "ip.checksum.status"]);
      assert.deepEqual(req, [[STACK_ADDRESS, "1"]]); // 1: tshark checked the header checksum: good
      // Linux records itself on receive and again as it replies (raw sends are not stamped).
      const rows = await fields(e.pcap, "icmp.type == 0", ["ip.rec_rt", "ip.opt.ptr"]);
      assert.deepEqual(rows, [[`${LINUX_ADDRESS},${LINUX_ADDRESS}`, "12"]]);
    });
  },
}));
