/**
 * The demo's IPv6 exchange, on the same LAN as its IPv4 one: r1 advertises
 * a prefix (the slaac plugin's router mode), the hosts configure
 * themselves from its Router Advertisements (RFC 4862, RFC 7217
 * identifiers, DAD by the ndp plugin), then h1 pings h2 and sends 64 KiB
 * through a TCP echo service on h2, both over the SLAAC addresses.
 *
 * @module
 */
import {
  type Duration,
  IpAddress,
  isUsableIpv6,
  MILLISECOND,
  SECOND,
  type SlaacService,
  type Stack,
  type VirtualNetwork,
} from "../mod.ts";

/** The prefix r1 advertises on the LAN. */
export const DEMO_PREFIX = "2001:db8:1::/64";

/** What the IPv6 exchange did. */
export interface Ipv6DemoResult {
  /** Hosts that formed a usable address from the advertised prefix. */
  readonly configured: number;
  /** Echo replies over IPv6, and echo requests sent. */
  readonly replies: number;
  readonly attempts: number;
  /** Whether 64 KiB came back identical through TCP echo over IPv6. */
  readonly tcpOk: boolean;
}

/** The usable address `host` formed from {@linkcode DEMO_PREFIX}, or undefined. */
function slaacAddress(host: Stack): string | undefined {
  const formed = host.service<SlaacService>("slaac")?.prefixes()
    .find((p) => p.prefix === DEMO_PREFIX && p.address !== null);
  if (formed?.address == null) return undefined;
  const text = formed.address;
  const usable = host.interfaces.list().some((i) =>
    i.ipv6.some((a) => isUsableIpv6(a) && IpAddress.v6(a.address).toString() === text)
  );
  return usable ? text : undefined;
}

/**
 * Runs the IPv6 exchange inside `net.run`; `hosts` are the LAN's hosts, `r1`
 * the router whose interface `lan` advertises the prefix.
 */
export async function runIpv6Exchange(
  net: VirtualNetwork,
  hosts: readonly Stack[],
  r1: Stack,
  print: (line: string) => void,
): Promise<Ipv6DemoResult> {
  const sleep = (d: Duration) => new Promise<void>((done) => net.at(net.now() + d, done));
  const lan = r1.interfaces.byName("lan")!;
  r1.service<SlaacService>("slaac")!.advertise(lan.index, DEMO_PREFIX);
  print(`ipv6: r1 advertises ${DEMO_PREFIX} on the LAN (Router Advertisements)`);
  // RS, RA and DAD (1 s) take a few seconds of virtual time: wait at most 10.
  const addresses = new Map<Stack, string>();
  for (let waited = 0; waited < 10 * SECOND && addresses.size < hosts.length;) {
    await sleep(100 * MILLISECOND);
    waited += 100 * MILLISECOND;
    for (const h of hosts) {
      const a = addresses.has(h) ? undefined : slaacAddress(h);
      if (a !== undefined) {
        addresses.set(h, a);
        print(
          `ipv6: ${h.name} configured ${a}/64 by SLAAC after ${(net.now() / 1e6).toFixed(3)} s`,
        );
      }
    }
  }
  const [h1, h2] = hosts;
  const a1 = addresses.get(h1!);
  const a2 = addresses.get(h2!);
  let replies = 0;
  let attempts = 0;
  let tcpOk = false;
  if (a1 === undefined || a2 === undefined) {
    print("ipv6: h1 or h2 did not configure an address; no IPv6 exchange");
    return { configured: addresses.size, replies, attempts, tcpOk };
  }

  const rtts: string[] = [];
  for (let seq = 0; seq < 3; seq++) {
    attempts++;
    try {
      const r = await h1!.ping(a2, { timeout: 500 });
      rtts.push(r.rtt.toFixed(3));
      replies++;
    } catch (err) {
      rtts.push(`(${(err as Error).message})`);
    }
  }
  print(`ping6 h1 -> ${a2}: ${rtts.length} sent, rtt ms ${rtts.join(" ")}`);

  // TCP over IPv6: 64 KiB through an echo service on h2, between the SLAAC addresses.
  const listener = h2!.listen({ hostname: "::", port: 7 });
  const echoing = (async () => {
    for await (const conn of listener) conn.readable.pipeTo(conn.writable).catch(() => {});
  })();
  const conn = await h1!.connect({ hostname: a2, port: 7 });
  const payload = new Uint8Array(64 * 1024).map((_, i) => (i * 7) & 0xff);
  const writing = (async () => {
    for (let off = 0; off < payload.length;) off += await conn.write(payload.subarray(off));
    await conn.closeWrite();
  })();
  const back = new Uint8Array(payload.length);
  let got = 0;
  while (got < back.length) {
    const n = await conn.read(back.subarray(got));
    if (n === null) break;
    got += n;
  }
  await writing;
  tcpOk = got === payload.length && back.every((b, i) => b === payload[i]);
  print(
    `tcp [${a1}] -> [${a2}]:7 echo of 64 KiB over IPv6: ${tcpOk ? "identical" : "DIFFERENT"}`,
  );
  conn.close();
  listener.close();
  await echoing.catch(() => {});
  return { configured: addresses.size, replies, attempts, tcpOk };
}
