/**
 * `cli.ts up` as a gateway between two Linux namespaces, each on its own
 * TUN device held by the one process, plus an in-memory LAN behind it: a
 * Linux client inside reaches a Linux HTTP server (socat) outside, pings it
 * over IPv4 and IPv6, and probes the path with TTL / hop limit 1 and 2 as
 * traceroute does; it also reaches a virtual host of the LAN. Then NPTv6
 * (`--npt`) and MSS clamping (`--mss-clamp`, with a TAP device inside)
 * against the same Linux tools. Every capture (both devices, and the
 * gateway's own pcapng) is checked with tshark.
 *
 * ```
 *  ns in: 10.1.0.2 fd01::2 ── tun1 ── 10.1.0.1 fd01::1 [gateway] 10.2.0.1 fd02::1 ── tun2 ── ns out: 10.2.0.2 fd02::2
 *                                                          10.3.0.1 ── lan0 ── 10.3.0.2 (virtual host, HTTP)
 * ```
 */
import assert from "node:assert/strict";
import { gated } from "../_require.ts";
import { runUpWhileReady as up } from "../cli/_up.ts";
import { runTshark, tsharkProblems } from "../_tshark.ts";
import { BULK_WARNINGS } from "./_ipv6.ts";
import { SERVICES } from "../../plugins/services/mod.ts";
import { NptMapping } from "../../stack/protocols/nptv6/mod.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import {
  INTEROP_NEEDS,
  ip,
  netnsExec,
  pingCommand,
  pingUnanswered,
  startListener,
  startTcpdump,
  withNetns,
} from "./_netns.ts";

/** A 300 kB body whose bytes depend on their position (a truncation or a shuffle shows). */
function body(): Uint8Array {
  const b = new Uint8Array(300_000);
  let x = 12345;
  for (let i = 0; i < b.length; i++) b[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
}

/**
 * Starts socat in `ns` listening as `listen` (`TCP-LISTEN:…`/`TCP6-LISTEN:…`),
 * answering every connection with an HTTP response carrying `dir`/body and
 * logging the client's address to `dir`/peers; waits until it listens on
 * 8080. Stopped (and reaped) by the returned function; killed after 30 s anyway.
 */
async function httpServer(ns: string, listen: string, dir: string): Promise<() => Promise<void>> {
  const size = (await Deno.stat(`${dir}/body`)).size;
  await Deno.writeTextFile(
    `${dir}/serve.sh`,
    `echo "$SOCAT_PEERADDR" >> ${dir}/peers\n` +
      `printf 'HTTP/1.0 200 OK\\r\\nContent-Length: ${size}\\r\\n\\r\\n'\n` +
      `cat ${dir}/body\n`,
  );
  return await startListener(
    ns,
    `socat '${listen}' 'EXEC:sh ${dir}/serve.sh'`,
    "/dev/null",
    8080,
    "t",
    30,
  );
}

/**
 * Routes both namespaces out of their devices, records both devices with
 * tcpdump into `dir`/in.pcap and out.pcap, serves HTTP in `nsOut` as
 * `listen` and runs `fn`; stops them all and resolves with tcpdump's drops.
 */
async function withDumpsAndServer(
  dir: string,
  inside: { ns: string; dev: string; gateway?: string },
  outside: { ns: string; dev: string },
  listen: string,
  fn: () => Promise<void>,
): Promise<number> {
  await defaultRoutes(inside.ns, inside.dev, inside.gateway);
  await defaultRoutes(outside.ns, outside.dev);
  const dumps = [
    await startTcpdump(inside.ns, inside.dev, `${dir}/in.pcap`, { bufferKib: 16384 }),
    await startTcpdump(outside.ns, outside.dev, `${dir}/out.pcap`, { bufferKib: 16384 }),
  ];
  let stopServer: (() => Promise<void>) | undefined;
  let dropped = 0;
  try {
    stopServer = await httpServer(outside.ns, listen, dir);
    await fn();
  } finally {
    await stopServer?.();
    for (const d of dumps) dropped += await d.stop();
  }
  return dropped;
}

/** curl `url` in `ns` into `file` (10 s at most): curl's exit code and its error text. */
async function curlToFile(ns: string, url: string, file: string): Promise<string> {
  const r = await netnsExec(ns, ["curl", "-sS", "--max-time", "10", "-g", "-o", file, url], 15);
  return `${r.code} ${r.stderr}`;
}

/**
 * Routes everything in `ns` out of `dev`, IPv4 and IPv6; on an Ethernet
 * device (TAP) IPv4 goes via `gateway`, the stack's address there.
 */
async function defaultRoutes(ns: string, dev: string, gateway?: string): Promise<void> {
  const via = gateway === undefined ? [] : ["via", gateway];
  await ip(["route", "add", "default", ...via, "dev", dev], { netns: ns });
  if (gateway === undefined) await ip(["-6", "route", "add", "default", "dev", dev], { netns: ns });
}

Deno.test(gated([...INTEROP_NEEDS, "curl", "socat", "ping", "tshark"], {
  name:
    "gateway: Linux client in one namespace reaches a Linux server in another through up --tun --tun --forward",
  async fn() {
    await withNetns((nsIn) =>
      withNetns(async (nsOut) => {
        const dir = await Deno.makeTempDir({ prefix: "gateway-" });
        const served = body();
        await Deno.writeFile(`${dir}/body`, served);
        const gatewayPcap = `${dir}/gateway.pcapng`;
        const seen: Record<string, string> = {};
        let dropped = 0; // packets tcpdump said it lost
        const r = await up(
          [
            "--forward",
            "--capture",
            gatewayPcap,
            "--tun",
            "tun1",
            "--no-offload", // Linux-side tcpdump would see partial checksums
            "--netns",
            nsIn,
            "--address",
            "10.1.0.1/24",
            "--address",
            "fd01::1/64",
            "--peer-address",
            "10.1.0.2/24",
            "--peer-address",
            "fd01::2/64",
            "--tun",
            "tun2",
            "--no-offload",
            "--netns",
            nsOut,
            "--address",
            "10.2.0.1/24",
            "--address",
            "fd02::1/64",
            "--peer-address",
            "10.2.0.2/24",
            "--peer-address",
            "fd02::2/64",
            "--lan",
            "lan0",
            "--hosts-serve",
            "http",
            "--address",
            "10.3.0.1/24",
          ],
          async () => {
            dropped += await withDumpsAndServer(
              dir,
              { ns: nsIn, dev: "tun1" },
              { ns: nsOut, dev: "tun2" },
              "TCP-LISTEN:8080,bind=10.2.0.2,reuseaddr,fork",
              async () => {
                const ping = (target: string, v6 = false) =>
                  netnsExec(
                    nsIn,
                    pingCommand(target, { count: 5, interval: 0.05, ipv6: v6, deadline: 5 }),
                    10,
                  );
                seen.ping4 = (await ping("10.2.0.2")).stdout;
                seen.ping6 = (await ping("fd02::2", true)).stdout;
                seen.lan = (await ping("10.3.0.2")).stdout;
                // The virtual host's own HTTP status page, through the gateway.
                const page = await netnsExec(
                  nsIn,
                  [
                    "curl",
                    "-sS",
                    "--max-time",
                    "5",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    "http://10.3.0.2/",
                  ],
                  10,
                );
                seen.lanHttp = `${page.stdout} ${page.stderr}`;
                const probe = (target: string, ttl: number, v6 = false) =>
                  netnsExec(nsIn, pingCommand(target, { count: 1, ttl, ipv6: v6 }), 5);
                seen.ttl1 = (await probe("10.2.0.2", 1)).stdout;
                seen.ttl2 = (await probe("10.2.0.2", 2)).stdout;
                seen.hop1 = (await probe("fd02::2", 1, true)).stdout;
                seen.hop2 = (await probe("fd02::2", 2, true)).stdout;
                seen.curl = await curlToFile(nsIn, "http://10.2.0.2:8080/", `${dir}/got`);
              },
            );
          },
          { services: SERVICES },
        );
        try {
          assert.equal(r.code, 0, r.err.join("\n"));
          assert.equal(
            r.out[0],
            "ready tun1 10.1.0.1/24 fd01::1/64, tun2 10.2.0.1/24 fd02::1/64, lan0 10.3.0.1/24",
          );
          assert.deepEqual(r.err, [], "every peer answered the gateway's start-up ping");
          for (const k of ["ping4", "ping6", "lan"]) {
            assert.deepEqual(pingUnanswered(seen[k]!, 5), [], seen[k]);
          }
          // traceroute by hand: TTL 1 dies at the gateway, TTL 2 reaches the server.
          assert.match(seen.ttl1!, /From 10\.1\.0\.1 icmp_seq=1 Time to live exceeded/);
          assert.match(seen.ttl2!, /from 10\.2\.0\.2: icmp_seq=1 ttl=63/);
          assert.match(seen.hop1!, /From fd01::1 icmp_seq=1 Time exceeded: Hop limit/);
          assert.match(seen.hop2!, /from fd02::2: icmp_seq=1 ttl=63/);
          assert.equal(seen.curl, "0 ");
          assert.deepEqual(await Deno.readFile(`${dir}/got`), served, "the body arrived intact");
          assert.equal(seen.lanHttp, "200 ");
          // No NAT: the server sees the client's own address.
          assert.equal((await Deno.readTextFile(`${dir}/peers`)).trim(), "10.1.0.2");
          const text = r.out.join("\n");
          assert.match(text, /^tun1: rx \d+ packets/m);
          assert.match(text, /^ {2}fwd\.forwarded +\d+$/m);
          for (const f of ["in.pcap", "out.pcap", "gateway.pcapng"]) {
            // A 300 kB transfer on a busy machine: flow control, tcpdump's drops, late timers.
            const allowWarnings = BULK_WARNINGS;
            const t = await tsharkProblems(`${dir}/${f}`, { allowWarnings });
            assert.deepEqual(t.problems, [], `${f}: tcpdump dropped ${dropped}`);
          }
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      })
    );
  },
}));

Deno.test(gated([...INTEROP_NEEDS, "curl", "socat", "ping", "tshark"], {
  name:
    "gateway --npt: Linux outside sees the inside client under the outside prefix; IPv6 curl, ping6 both ways",
  async fn() {
    const mapping = NptMapping.parse("fd01::/48", "2001:db8:1::/48");
    const outsideName = mapping.translateText("fd01::2", "outbound")!;
    await withNetns((nsIn) =>
      withNetns(async (nsOut) => {
        const dir = await Deno.makeTempDir({ prefix: "gateway-npt-" });
        const served = body();
        await Deno.writeFile(`${dir}/body`, served);
        const seen: Record<string, string> = {};
        let dropped = 0;
        const r = await up(
          [
            "--forward",
            "--tun",
            "tun1",
            "--no-offload",
            "--netns",
            nsIn,
            "--address",
            "fd01::1/64",
            "--peer-address",
            "fd01::2/64",
            "--tun",
            "tun2",
            "--no-offload",
            "--netns",
            nsOut,
            "--address",
            "fd02::1/64",
            "--peer-address",
            "fd02::2/64",
            "--npt",
            "fd01::/48=2001:db8:1::/48",
          ],
          async () => {
            dropped += await withDumpsAndServer(
              dir,
              { ns: nsIn, dev: "tun1" },
              { ns: nsOut, dev: "tun2" },
              "TCP6-LISTEN:8080,bind=[fd02::2],reuseaddr,fork",
              async () => {
                const ping = (ns: string, target: string) =>
                  netnsExec(
                    ns,
                    pingCommand(target, { count: 3, interval: 0.05, ipv6: true, deadline: 5 }),
                    10,
                  );
                seen.out = (await ping(nsIn, "fd02::2")).stdout;
                // Stateless: the outside reaches the inside host by its outside name.
                seen.in = (await ping(nsOut, outsideName)).stdout;
                seen.curl = await curlToFile(nsIn, "http://[fd02::2]:8080/", `${dir}/got`);
              },
            );
          },
        );
        try {
          assert.equal(r.code, 0, r.err.join("\n"));
          for (const k of ["out", "in"]) {
            assert.deepEqual(pingUnanswered(seen[k]!, 3), [], seen[k]);
          }
          assert.equal(seen.curl, "0 ");
          assert.deepEqual(await Deno.readFile(`${dir}/got`), served);
          // socat prints an IPv6 peer in brackets, every zero written out.
          const peer = (await Deno.readTextFile(`${dir}/peers`)).trim().replace(/^\[|\]$/g, "");
          assert.equal(IpAddress.parse(peer)?.toString(), outsideName);
          const text = r.out.join("\n");
          assert.match(text, /^nptv6:\n( {2}.*\n)* {2}outbound +\d+$/m);
          for (const f of ["in.pcap", "out.pcap"]) {
            const allowWarnings = BULK_WARNINGS;
            const t = await tsharkProblems(`${dir}/${f}`, { allowWarnings });
            assert.deepEqual(t.problems, [], `${f}: tcpdump dropped ${dropped}`);
          }
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      })
    );
  },
}));

Deno.test(gated([...INTEROP_NEEDS, "curl", "socat", "tshark"], {
  name:
    "gateway --mss-clamp, TAP inside: Linux's SYN (MSS 1460) leaves by the 1280-byte TUN with MSS 1240; curl needs no PMTUD",
  async fn() {
    await withNetns((nsIn) =>
      withNetns(async (nsOut) => {
        const dir = await Deno.makeTempDir({ prefix: "gateway-mss-" });
        const served = body();
        await Deno.writeFile(`${dir}/body`, served);
        let curl = "";
        const r = await up(
          [
            "--forward",
            "--mss-clamp",
            "--tap",
            "tap1",
            "--netns",
            nsIn,
            "--address",
            "10.1.0.1/24",
            "--peer-address",
            "10.1.0.2/24",
            "--tun",
            "tun2",
            "--no-offload",
            "--netns",
            nsOut,
            "--mtu",
            "1280",
            "--address",
            "10.2.0.1/24",
            "--peer-address",
            "10.2.0.2/24",
          ],
          async () => {
            await withDumpsAndServer(
              dir,
              { ns: nsIn, dev: "tap1", gateway: "10.1.0.1" },
              { ns: nsOut, dev: "tun2" },
              "TCP-LISTEN:8080,bind=10.2.0.2,reuseaddr,fork",
              async () => {
                curl = await curlToFile(nsIn, "http://10.2.0.2:8080/", `${dir}/got`);
              },
            );
          },
        );
        try {
          assert.equal(r.code, 0, r.err.join("\n"));
          assert.equal(curl, "0 ");
          assert.deepEqual(await Deno.readFile(`${dir}/got`), served);
          const syns = async (f: string) =>
            (await runTshark(`${dir}/${f}`, [
              "-Y",
              "tcp.flags.syn == 1 && tcp.port == 8080",
              "-T",
              "fields",
              "-e",
              "tcp.flags.ack",
              "-e",
              "tcp.options.mss_val",
            ])).trim().split("\n").map((l) =>
              // tshark writes the ACK flag as 1/0 or True/False, by version.
              l.trim().replace(/\s+/, " ").replace(/^True/, "1").replace(/^False/, "0")
            );
          // Linux announces 1460 on the 1500-byte tap1; the gateway clamps it to 1280 - 40.
          assert.deepEqual(await syns("in.pcap"), ["0 1460", "1 1240"]);
          assert.deepEqual(await syns("out.pcap"), ["0 1240", "1 1240"]);
          assert.match(r.out.join("\n"), /^mssclamp:\n( {2}.*\n)* {2}clamped +1$/m);
          assert.doesNotMatch(r.out.join("\n"), /fwd_frag_needed/);
          for (const f of ["in.pcap", "out.pcap"]) {
            const t = await tsharkProblems(`${dir}/${f}`, { allowWarnings: BULK_WARNINGS });
            assert.deepEqual(t.problems, [], f);
          }
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      })
    );
  },
}));
