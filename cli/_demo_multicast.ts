/**
 * The demo's multicast exchange, on the same LAN as its other ones: every
 * host but h1 joins {@linkcode DEMO_GROUP} with a UDP socket (IGMPv3 sends
 * a State Change Report, TO_EX {} to 224.0.0.22, RFC 3376 §5.1), h1 sends
 * three datagrams to the group, each member receives each one, then the
 * members leave (TO_IN {}). The reports and the datagrams show in the
 * capture.
 *
 * @module
 */
import {
  type DatagramConn,
  type Duration,
  MILLISECOND,
  type MulticastMembership,
  type Stack,
  type VirtualNetwork,
} from "../mod.ts";

/** The group the demo's hosts join. */
export const DEMO_GROUP = "239.1.2.3";
const PORT = 40000;

/** What the multicast exchange did. */
export interface MulticastDemoResult {
  /** Hosts that joined the group. */
  readonly members: number;
  /** Datagrams the members received, and how many they should have (members × sent). */
  readonly received: number;
  readonly expected: number;
  /** IGMPv3 reports the members sent (joins and leaves, retransmissions included). */
  readonly reports: number;
}

/**
 * Runs the multicast exchange inside `net.run`; `hosts` are the LAN's
 * hosts, `hosts[i]` holding `10.0.0.(i + 1)`.
 */
export async function runMulticastExchange(
  net: VirtualNetwork,
  hosts: readonly Stack[],
  print: (line: string) => void,
): Promise<MulticastDemoResult> {
  const sleep = (d: Duration) => new Promise<void>((done) => net.at(net.now() + d, done));
  const reportsSent = () =>
    hosts.reduce((n, h) => n + h.counters.get("igmp.tx.reports_v3").value, 0);
  const reportsBefore = reportsSent();
  const [h1, ...others] = hosts;
  const members: { host: Stack; conn: DatagramConn; m: MulticastMembership; got: string[] }[] = [];
  for (const [i, host] of others.entries()) {
    const conn = host.listenDatagram({ transport: "udp", port: PORT });
    const m = await conn.joinMulticastV4(DEMO_GROUP, `10.0.0.${i + 2}`);
    const got: string[] = [];
    (async () => {
      for await (const [data] of conn) got.push(new TextDecoder().decode(data));
    })().catch(() => {});
    members.push({ host, conn, m, got });
  }
  print(
    `multicast: ${members.map((x) => x.host.name).join(", ")} join ${DEMO_GROUP} ` +
      `(IGMPv3 reports TO_EX {} to 224.0.0.22)`,
  );
  await sleep(100 * MILLISECOND);
  const sender = h1!.listenDatagram({ transport: "udp" });
  const texts = ["one", "to", "many"];
  for (const text of texts) {
    await sender.send(new TextEncoder().encode(text), { hostname: DEMO_GROUP, port: PORT });
    await sleep(10 * MILLISECOND);
    const by = members.filter((x) => x.got.includes(text)).map((x) => x.host.name);
    print(
      `udp h1:${sender.addr.port} -> ${DEMO_GROUP}:${PORT} "${text}": received by ` +
        (by.length > 0 ? by.join(", ") : "nobody"),
    );
  }
  sender.close();
  for (const x of members) await x.m.leave();
  await sleep(1100 * MILLISECOND); // the leaves' reports and their retransmissions
  const received = members.reduce((n, x) => n + x.got.length, 0);
  const reports = reportsSent() - reportsBefore;
  print(`multicast: the members leave (TO_IN {}); ${reports} IGMPv3 reports in all`);
  for (const x of members) x.conn.close();
  return { members: members.length, received, expected: members.length * texts.length, reports };
}
