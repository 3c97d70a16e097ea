/**
 * `cli.ts up` as a NAT gateway (`--masquerade tun2`, `--forward-port`)
 * between two Linux namespaces, each on its own TUN device: the inside
 * client (10.1.0.2 and 10.1.0.3) routes everything through the gateway; the
 * outside (10.2.0.2) has no route back to 10.1.0.0/24, so only translated
 * traffic can work. Checked against Linux tools: ping, TTL probes with
 * ping -t, traceroute -n with UDP and ICMP probes, curl to a
 * server outside whose log names the gateway's address, a forwarded port
 * reached from outside, a STUN-like UDP echo written here (python3) that
 * shows the mappings (port preserved when free, another, even, port for a
 * second inside host on the same port, the same mapping towards another
 * server port, an ICMP port unreachable translated back), and 100 MB
 * through nc with the byte count and SHA-256 checked. Every capture (both
 * devices, the gateway's pcapng) is checked with tshark.
 *
 * ```
 *  ns in: 10.1.0.2, 10.1.0.3 ── tun1 ── 10.1.0.1 [NAT gateway] 10.2.0.1 ── tun2 ── ns out: 10.2.0.2
 * ```
 */
import assert from "node:assert/strict";
import { gated } from "../_require.ts";
import { runUpWhileReady as up } from "../cli/_up.ts";
import { runTshark, tsharkProblems } from "../_tshark.ts";
import { BULK_WARNINGS } from "./_ipv6.ts";
import {
  INTEROP_NEEDS,
  ip,
  netnsExec,
  pingCommand,
  pingUnanswered,
  runCommand,
  startListener,
  startTcpdump,
  withNetns,
} from "./_netns.ts";

const PYTHON = "/usr/bin/python3";
const NEEDS = [
  ...INTEROP_NEEDS,
  "curl",
  "nc",
  "python3",
  "ping",
  "traceroute",
  "tshark",
] as const;

/** The gateway's flags for namespaces `nsIn` and `nsOut`. */
function gatewayArgs(nsIn: string, nsOut: string, extra: string[] = []): string[] {
  return [
    "--forward",
    "--masquerade",
    "tun2",
    "--forward-port",
    "tcp:8080=10.1.0.2:8000@tun2",
    ...extra,
    "--tun",
    "tun1",
    "--no-offload", // Linux-side tcpdump would see partial checksums
    "--netns",
    nsIn,
    "--address",
    "10.1.0.1/24",
    "--peer-address",
    "10.1.0.2/24",
    "--peer-address",
    "10.1.0.3/24",
    "--tun",
    "tun2",
    "--no-offload",
    "--netns",
    nsOut,
    "--address",
    "10.2.0.1/24",
    "--peer-address",
    "10.2.0.2/24",
  ];
}

/** The STUN-like echo: answers every datagram on 3478 and 3479 with "ADDR:PORT" of its source. */
const STUN_SERVER = `
import select, socket, sys
socks = []
for port in (3478, 3479):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.2.0.2", port))
    socks.append(s)
while True:
    ready, _, _ = select.select(socks, [], [])
    for s in ready:
        data, addr = s.recvfrom(2048)
        s.sendto(("%s:%d" % addr).encode(), addr)
        print("seen %s:%d" % addr, flush=True)
`;

/**
 * The inside side: asks the echo from 10.1.0.2:40000 (twice: server ports
 * 3478 and 3479) and from 10.1.0.3:40000, and sends to a closed port with a
 * connected socket (Linux reports the translated ICMP port unreachable as
 * ECONNREFUSED). Each question is retried 3 times (1 s each). Prints JSON.
 */
const STUN_CLIENT = `
import json, socket
def sock(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(1)
    return s
def ask(s, port):
    for _ in range(3):
        s.sendto(b"?", ("10.2.0.2", port))
        try:
            return s.recvfrom(100)[0].decode()
        except socket.timeout:
            pass
    return None
a = sock("10.1.0.2", 40000)
b = sock("10.1.0.3", 40000)
out = {"a": ask(a, 3478), "a2": ask(a, 3479), "b": ask(b, 3478)}
c = sock("10.1.0.2", 40002)
c.connect(("10.2.0.2", 3999))
out["closed"] = "no answer"
for _ in range(3):
    c.send(b"x")
    try:
        c.recv(100)
        out["closed"] = "answered"
        break
    except ConnectionRefusedError:
        out["closed"] = "refused"
        break
    except socket.timeout:
        pass
print(json.dumps(out))
`;

/** Receives one TCP connection on 10.2.0.2:9000; prints its peer, byte count and SHA-256. */
const SINK = `
import hashlib, json, socket
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.2.0.2", 9000))
l.listen(1)
c, peer = l.accept()
h = hashlib.sha256()
n = 0
while True:
    d = c.recv(1 << 20)
    if not d:
        break
    n += len(d)
    h.update(d)
print(json.dumps({"peer": "%s:%d" % peer, "bytes": n, "sha256": h.hexdigest()}), flush=True)
`;

/** Routes everything in `ns` out of `dev`. */
async function defaultRoute(ns: string, dev: string): Promise<void> {
  await ip(["route", "add", "default", "dev", dev], { netns: ns });
}

/** How many packets of `file` match the display `filter`. */
async function countPackets(file: string, filter: string): Promise<number> {
  const out = await runTshark(file, ["-Y", filter, "-T", "fields", "-e", "frame.number"]);
  return out.split("\n").filter((l) => l.trim() !== "").length;
}

Deno.test(gated(NEEDS, {
  name:
    "nat gateway over TUN: Linux inside reaches Linux outside masqueraded (ping, TTL probes, traceroute UDP and ICMP, curl, STUN-like UDP mappings, port unreachable); a forwarded port from outside",
  async fn() {
    await withNetns((nsIn) =>
      withNetns(async (nsOut) => {
        const dir = await Deno.makeTempDir({ prefix: "nat-gateway-" });
        await Deno.mkdir(`${dir}/www`);
        await Deno.writeTextFile(`${dir}/www/index.txt`, "served\n");
        await Deno.writeTextFile(`${dir}/stun_server.py`, STUN_SERVER);
        await Deno.writeTextFile(`${dir}/stun_client.py`, STUN_CLIENT);
        const gatewayPcap = `${dir}/gateway.pcapng`;
        const seen: Record<string, string> = {};
        let dropped = 0;
        const r = await up(
          gatewayArgs(nsIn, nsOut, ["--capture", gatewayPcap]),
          async (gw) => {
            // Inside: everything via the gateway. Outside: no route to 10.1.0.0/24 at all.
            await defaultRoute(nsIn, "tun1");
            const dumps = [
              await startTcpdump(nsIn, "tun1", `${dir}/in.pcap`),
              await startTcpdump(nsOut, "tun2", `${dir}/out.pcap`),
            ];
            const stops: (() => Promise<void>)[] = [];
            try {
              stops.push(
                await startListener(
                  nsOut,
                  `${PYTHON} -m http.server 8080 --bind 10.2.0.2 --directory ${dir}/www`,
                  `${dir}/outside_http.log`,
                  8080,
                ),
                await startListener(
                  nsIn,
                  `${PYTHON} -m http.server 8000 --bind 10.1.0.2 --directory ${dir}/www`,
                  `${dir}/inside_http.log`,
                  8000,
                ),
                await startListener(
                  nsOut,
                  `${PYTHON} -u ${dir}/stun_server.py`,
                  `${dir}/stun.log`,
                  3479,
                  "u",
                ),
              );
              const ping = await netnsExec(
                nsIn,
                pingCommand("10.2.0.2", { count: 5, interval: 0.05, deadline: 5 }),
                10,
              );
              seen.ping = ping.stdout;
              const probe = (ttl: number) =>
                netnsExec(nsIn, pingCommand("10.2.0.2", { count: 1, ttl }), 5);
              seen.ttl1 = (await probe(1)).stdout;
              seen.ttl2 = (await probe(2)).stdout;
              // traceroute itself: UDP probes (its default), then ICMP echo (-I).
              const trace = (extra: string[]) =>
                netnsExec(nsIn, [
                  "traceroute",
                  "-n",
                  ...extra,
                  "-q",
                  "1",
                  "-w",
                  "1",
                  "-m",
                  "4",
                  "10.2.0.2",
                ], 15);
              const udpTrace = await trace([]);
              seen.traceUdp = `${udpTrace.code}\n${udpTrace.stdout}${udpTrace.stderr}`;
              const icmpTrace = await trace(["-I"]);
              seen.traceIcmp = `${icmpTrace.code}\n${icmpTrace.stdout}${icmpTrace.stderr}`;
              const curl = (ns: string, url: string) =>
                netnsExec(ns, ["curl", "-sS", "--max-time", "5", url], 10);
              const out = await curl(nsIn, "http://10.2.0.2:8080/index.txt");
              seen.curl = `${out.code} ${out.stdout}${out.stderr}`;
              const fwd = await curl(nsOut, "http://10.2.0.1:8080/index.txt");
              seen.forwarded = `${fwd.code} ${fwd.stdout}${fwd.stderr}`;
              const stun = await netnsExec(nsIn, [PYTHON, `${dir}/stun_client.py`], 20);
              seen.stun = stun.stdout.trim() || stun.stderr;
              seen.conntrack = JSON.stringify(gw.conntrack());
            } finally {
              for (const stop of stops) await stop();
              for (const d of dumps) dropped += await d.stop();
            }
          },
        );
        try {
          assert.equal(r.code, 0, r.err.join("\n"));
          assert.deepEqual(r.err, [], "every peer answered the gateway's start-up ping");
          assert.deepEqual(pingUnanswered(seen.ping!, 5), [], seen.ping);
          // traceroute by hand: TTL 1 dies at the gateway, TTL 2 reaches the server.
          assert.match(seen.ttl1!, /From 10\.1\.0\.1 icmp_seq=1 Time to live exceeded/);
          assert.match(seen.ttl2!, /from 10\.2\.0\.2: icmp_seq=1 ttl=63/);
          // traceroute -n: hop 1 the gateway's inside address, hop 2 the server, and no more
          // (the server's port unreachable / echo reply, translated back, ends the trace).
          for (const t of [seen.traceUdp!, seen.traceIcmp!]) {
            assert.match(t, /^0\n/, t);
            assert.match(t, /^ 1 {2}10\.1\.0\.1 {2}[\d.]+ ms\s*$/m, t);
            assert.match(t, /^ 2 {2}10\.2\.0\.2 {2}[\d.]+ ms\s*$/m, t);
            assert.doesNotMatch(t, /^ 3 /m, t);
          }
          // curl out: the server's log names the gateway's outside address.
          assert.equal(seen.curl, "0 served\n");
          const outLog = await Deno.readTextFile(`${dir}/outside_http.log`);
          assert.match(outLog, /^10\.2\.0\.1 - - .*"GET \/index\.txt HTTP\/1\.1" 200/m, outLog);
          assert.doesNotMatch(outLog, /10\.1\.0\./);
          // The forwarded port: outside reaches the inside server, which sees the outside's address.
          assert.equal(seen.forwarded, "0 served\n");
          const inLog = await Deno.readTextFile(`${dir}/inside_http.log`);
          assert.match(inLog, /^10\.2\.0\.2 - - .*"GET \/index\.txt HTTP\/1\.1" 200/m, inLog);
          // UDP mappings (RFC 4787): endpoint-independent, port preserved when free, parity kept.
          const stun = JSON.parse(seen.stun!) as Record<string, string | null>;
          assert.equal(stun.a, "10.2.0.1:40000", seen.stun);
          assert.equal(stun.a2, "10.2.0.1:40000", "the same mapping towards another port");
          const [bAddr, bPort] = stun.b!.split(":");
          assert.equal(bAddr, "10.2.0.1");
          assert.notEqual(Number(bPort), 40000, "a second inside host gets another port");
          assert.equal(Number(bPort) % 2, 0, "of the same parity");
          assert.equal(stun.closed, "refused", "the ICMP port unreachable came back translated");
          const flows = JSON.parse(seen.conntrack!) as { reply: { dst: string } }[];
          assert.ok(flows.some((f) => f.reply.dst === "10.2.0.1"), seen.conntrack);
          assert.match(r.out.join("\n"), /^ {2}flow\.snat +\d+$/m);
          assert.match(r.out.join("\n"), /^ {2}flow\.dnat +1$/m);
          // Both sides of the translation are in the captures; no inside address leaks out.
          assert.equal(await countPackets(`${dir}/out.pcap`, "ip.addr == 10.1.0.0/24"), 0);
          assert.ok(await countPackets(`${dir}/out.pcap`, "ip.src == 10.2.0.1 && udp") >= 3);
          assert.ok(await countPackets(`${dir}/in.pcap`, "icmp.type == 3 && icmp.code == 3") >= 1);
          for (const f of ["in.pcap", "out.pcap", "gateway.pcapng"]) {
            const t = await tsharkProblems(`${dir}/${f}`);
            assert.deepEqual(t.problems, [], `${f}: tcpdump dropped ${dropped}`);
          }
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      })
    );
  },
}));

Deno.test(gated(NEEDS, {
  name:
    "nat gateway over TUN: 100 MB through nc from inside to a server outside, count and SHA-256 checked",
  async fn() {
    await withNetns((nsIn) =>
      withNetns(async (nsOut) => {
        const dir = await Deno.makeTempDir({ prefix: "nat-bulk-" });
        const size = 100 * 1024 * 1024;
        const made = await runCommand("sh", [
          "-c",
          // Numbered lines (10 bytes each): a lost, doubled or swapped segment changes the hash,
          // and ASCII never looks like a binary protocol to tshark's heuristic dissectors
          // (random bytes did: Thrift "varint value too large" errors).
          `seq -f %09.0f 1 ${size / 10} >${dir}/big && sha256sum ${dir}/big`,
        ]);
        const want = made.stdout.split(" ")[0]!;
        assert.match(want, /^[0-9a-f]{64}$/, made.stderr);
        await Deno.writeTextFile(`${dir}/sink.py`, SINK);
        const seen: Record<string, string> = {};
        let dropped = 0;
        let seconds = 0;
        const r = await up(gatewayArgs(nsIn, nsOut), async () => {
          await defaultRoute(nsIn, "tun1");
          // Headers only: 100 MB twice would be slow to write and to check.
          const dumps = [
            await startTcpdump(nsIn, "tun1", `${dir}/in.pcap`, { snaplen: 96, bufferKib: 16384 }),
            await startTcpdump(nsOut, "tun2", `${dir}/out.pcap`, { snaplen: 96, bufferKib: 16384 }),
          ];
          let stop: (() => Promise<void>) | undefined;
          try {
            stop = await startListener(
              nsOut,
              `${PYTHON} -u ${dir}/sink.py`,
              `${dir}/sink.log`,
              9000,
            );
            const t0 = performance.now();
            const nc = await netnsExec(nsIn, [
              "sh",
              "-c",
              `nc -N 10.2.0.2 9000 <${dir}/big`,
            ], 240);
            seconds = (performance.now() - t0) / 1000;
            seen.nc = `${nc.code} ${nc.stderr}`;
            for (let i = 0; i < 50 && !(await Deno.readTextFile(`${dir}/sink.log`)).trim(); i++) {
              await new Promise((res) => setTimeout(res, 100));
            }
            seen.sink = (await Deno.readTextFile(`${dir}/sink.log`)).trim();
          } finally {
            await stop?.();
            for (const d of dumps) dropped += await d.stop();
          }
        });
        try {
          assert.equal(r.code, 0, r.err.join("\n"));
          assert.equal(seen.nc, "0 ");
          const sink = JSON.parse(seen.sink!) as { peer: string; bytes: number; sha256: string };
          assert.equal(sink.bytes, size);
          assert.equal(sink.sha256, want);
          assert.match(sink.peer, /^10\.2\.0\.1:\d+$/, "the server sees the gateway's address");
          // deno-lint-ignore no-console
          console.log(
            `100 MB through the NAT gateway in ${seconds.toFixed(1)} s ` +
              `(${(size / seconds / 1e6).toFixed(1)} MB/s)`,
          );
          for (const f of ["in.pcap", "out.pcap"]) {
            const t = await tsharkProblems(`${dir}/${f}`, { allowWarnings: BULK_WARNINGS });
            assert.deepEqual(t.problems, [], `${f}: tcpdump dropped ${dropped}`);
          }
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      })
    );
  },
}));
