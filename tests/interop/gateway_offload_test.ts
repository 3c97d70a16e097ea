/**
 * Gateway mode (`up --tun A --tun B --forward`) with TUN offloads, against
 * Linux kernel sockets in two namespaces: TCP super-segments from Linux
 * cross the gateway whole to a TUN with TSO, or are cut in software
 * (stack/wire/tcp_gso.ts) for one with `--no-offload`; NAT (masquerade out,
 * a forwarded port in) rewrites them on the way. A UDP_SEGMENT send from
 * inside crosses too (tun1 with USO takes it whole and the stack cuts it,
 * as tun_offload_test checks). Both ends hash what they
 * moved; the gateway's capture must be clean in tshark (no malformed frame,
 * no bad checksum) and Linux must count no checksum error.
 *
 * ```
 *  ns in: 10.1.0.2 ── tun1 ── 10.1.0.1 [gateway, masquerade on tun2] 10.2.0.1 ── tun2 ── ns out: 10.2.0.2
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { gated, type Requirement } from "../_require.ts";
import { runUpWhileReady as up } from "../cli/_up.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { BULK_WARNINGS } from "./_ipv6.ts";
import { INTEROP_NEEDS, ip, netnsExec, tcpChecksumErrors, withNetns } from "./_netns.ts";
import { kernelPeerListening, kernelPeerReport, startKernelPeer } from "./_kernel_peer.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "python3", "tshark"];
const MIB = 1 << 20;

/** Linux in `fromNs` sends `bytes` to a receiver in `toNs` bound to `bind`, connecting to `to`. */
async function transfer(
  fromNs: string,
  toNs: string,
  bind: string,
  to: string,
  port: number,
  bytes: number,
): Promise<void> {
  const server = startKernelPeer(toNs, ["recv", bind, String(port), "--sha256"], 120);
  await kernelPeerListening(server);
  const client = startKernelPeer(
    fromNs,
    ["send", to, String(port), String(bytes), "5", "--sha256"],
    120,
  );
  const sent = await kernelPeerReport(client);
  const got = await kernelPeerReport(server);
  assert.equal(sent.bytes, bytes);
  assert.equal(got.bytes, bytes, `${fromNs} → ${toNs}: bytes`);
  assert.equal(got.sha256, sent.sha256, `${fromNs} → ${toNs}: SHA-256`);
}

/** Binds argv[1]:argv[2], says "ready", prints [length, first byte, bytes equal to it, source] of argv[3] datagrams. */
const UDP_RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(10)
print("ready", flush=True)
got = []
try:
    for _ in range(int(sys.argv[3])):
        d, src = s.recvfrom(65536)
        got.append([len(d), d[0], d.count(d[0]), src[0]])
except socket.timeout:
    pass
print(json.dumps(got), flush=True)
`;

/** One UDP_SEGMENT send to argv[1]:argv[2] of argv[4] datagrams of argv[3] bytes, datagram i all bytes i. */
const UDP_SEGMENT_SENDER = `
import socket, sys
size, n = int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_UDP, 103, size)  # UDP_SEGMENT
s.sendto(b"".join(bytes([i]) * size for i in range(n)), (sys.argv[1], int(sys.argv[2])))
`;

/**
 * Linux in `fromNs` sends one UDP_SEGMENT super-datagram of 8 datagrams to
 * 10.2.0.2:5005 in `toNs` through the gateway (its TUN receives it whole
 * with USO and cuts it, masquerade rewrites each): every datagram arrives
 * intact from the gateway's outside address, and Linux counts no bad UDP
 * checksum.
 */
async function udpSegmentOut(fromNs: string, toNs: string): Promise<void> {
  const child = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      toNs,
      "timeout",
      "30",
      "python3",
      "-c",
      UDP_RECEIVER,
      "10.2.0.2",
      "5005",
      "8",
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const r = await reader.read();
    if (r.done) break;
    out += r.value;
  }
  const sent = await netnsExec(fromNs, [
    "python3",
    "-c",
    UDP_SEGMENT_SENDER,
    "10.2.0.2",
    "5005",
    "1000",
    "8",
  ], 10);
  assert.equal(sent.code, 0, sent.stderr);
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    out += r.value;
  }
  await child.status;
  const got = JSON.parse(out.slice(out.indexOf("ready\n") + 6));
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7].map((i) => [1000, i, 1000, "10.2.0.1"]));
  const snmp = await netnsExec(toNs, ["cat", "/proc/net/snmp"], 5);
  const udp = snmp.stdout.split("\n").filter((l) => l.startsWith("Udp:"));
  const names = udp[0]!.split(/\s+/), values = udp[1]!.split(/\s+/);
  assert.equal(Number(values[names.indexOf("InCsumErrors")]), 0, "UDP checksum errors outside");
}

/** The super-segment counts `up` printed for `dev` on stopping, or null when it printed none. */
function superSegments(out: readonly string[], dev: string): { rx: number; tx: number } | null {
  const line = out.find((l) => l.startsWith(`${dev}: rx `));
  assert.ok(line !== undefined, `no statistics line for ${dev}:\n${out.join("\n")}`);
  const m = /super-segments rx (\d+) tx (\d+)/.exec(line);
  return m === null ? null : { rx: Number(m[1]), tx: Number(m[2]) };
}

/**
 * Runs the gateway between two fresh namespaces (tun2 with `tun2Flags`
 * after it), moves `bytes` each way through NAT, and returns what `up`
 * printed; `capture` records the gateway's frames.
 */
async function gatewayBothWays(
  tun2Flags: string[],
  bytes: number,
  capture?: string,
): Promise<string[]> {
  return await withNetns((nsIn) =>
    withNetns(async (nsOut) => {
      const r = await up(
        [
          "--forward",
          ...(capture !== undefined ? ["--capture", capture] : []),
          "--masquerade",
          "tun2",
          "--forward-port",
          "tcp:5004=10.1.0.2:5004@tun2",
          "--tun",
          "tun1",
          "--netns",
          nsIn,
          "--address",
          "10.1.0.1/24",
          "--peer-address",
          "10.1.0.2/24",
          "--tun",
          "tun2",
          ...tun2Flags,
          "--netns",
          nsOut,
          "--address",
          "10.2.0.1/24",
          "--peer-address",
          "10.2.0.2/24",
        ],
        async () => {
          await ip(["route", "add", "default", "dev", "tun1"], { netns: nsIn });
          // Out through masquerade: Linux outside sees 10.2.0.1 only.
          await transfer(nsIn, nsOut, "10.2.0.2", "10.2.0.2", 5003, bytes);
          // In through the forwarded port (DNAT to the inside host).
          await transfer(nsOut, nsIn, "10.1.0.2", "10.2.0.1", 5004, bytes);
          // A UDP_SEGMENT send out through masquerade (USO on tun1's receive).
          await udpSegmentOut(nsIn, nsOut);
          assert.equal(await tcpChecksumErrors(nsIn), 0, "checksum errors inside");
          assert.equal(await tcpChecksumErrors(nsOut), 0, "checksum errors outside");
        },
      );
      assert.equal(r.code, 0, r.err.join("\n"));
      return r.out;
    })
  );
}

Deno.test(gated(NEEDS, {
  name:
    "gateway offload: super-segments cross up --tun --tun whole both ways through NAT, hashes equal, capture clean",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "gwoff-" });
    try {
      const pcap = `${dir}/gateway.pcapng`;
      const out = await gatewayBothWays([], 8 * MIB, pcap);
      const t1 = superSegments(out, "tun1"), t2 = superSegments(out, "tun2");
      assert.ok(t1 !== null && t2 !== null, out.join("\n"));
      // In → out: Linux inside sends super-segments, the gateway passes them on whole.
      assert.ok(t1.rx > 0 && t2.tx > 0, out.join("\n"));
      // Out → in likewise.
      assert.ok(t2.rx > 0 && t1.tx > 0, out.join("\n"));
      await assertTsharkClean(pcap, { allowWarnings: BULK_WARNINGS });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));

Deno.test(gated(NEEDS, {
  name:
    "gateway offload: --no-offload on tun2 cuts tun1's super-segments in software through NAT, hashes equal",
  async fn() {
    const out = await gatewayBothWays(["--no-offload"], 16 * MIB);
    const t1 = superSegments(out, "tun1");
    assert.ok(t1 !== null && t1.rx > 0, out.join("\n"));
    assert.equal(superSegments(out, "tun2"), null, "tun2 has no offloads");
  },
}));
