/**
 * Multicast sockets (IPv4 and IPv6) against Linux over a TAP device in a namespace of the
 * test's own (issue #11): a python3 socket joined to a group receives what
 * the stack sends to it, and a stack socket joined to a group receives what
 * Linux sends to it; bytes checked both ways, the capture (the stack's IGMP
 * reports included) checked with tshark by `withDevice`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ip, LINUX_ADDRESS, STACK_ADDRESS, withDevice } from "../interop/_netns.ts";
import { INTEROP_NEEDS } from "../interop/_netns.ts";
import { waitLinuxIpv6Ready } from "../interop/_ipv6.ts";
import { gated, type Requirement } from "../_require.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "python3", "tshark"];
const GROUP = "239.1.2.3";
const PORT = 5000;
/** Payload with every byte value, so that any mangling shows. */
const PAYLOAD = Uint8Array.from({ length: 256 }, (_, i) => i);
const HEX = Array.from(PAYLOAD, (b) => b.toString(16).padStart(2, "0")).join("");

/** python3: join GROUP on Linux's address, print the first datagram's hex and source, exit. */
const RECEIVER = `
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", ${PORT}))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             struct.pack("4s4s", socket.inet_aton("${GROUP}"), socket.inet_aton("${LINUX_ADDRESS}")))
s.settimeout(8)
data, (src, port) = s.recvfrom(2048)
print(data.hex(), src, port)
`;

/** python3: send the payload to GROUP out of Linux's address, `count` times 100 ms apart. */
const SENDER = `
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("${LINUX_ADDRESS}"))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
s.bind(("${LINUX_ADDRESS}", 6001))
for _ in range(30):
    s.sendto(bytes(range(256)), ("${GROUP}", ${PORT}))
    time.sleep(0.1)
`;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

type Harness = Parameters<Parameters<typeof withDevice>[1]>[0];
type Exec = ReturnType<Harness["exec"]>;

/** Waits (bounded, 5 s) until Linux lists `group` on the device: its socket joined. */
async function linuxJoined(h: Harness, group: string): Promise<void> {
  let joined = false;
  for (let i = 0; i < 50 && !joined; i++) {
    joined = (await ip(["maddr", "show", "dev", h.dev.name], { netns: h.netns })).includes(group);
    if (!joined) await sleep(100);
  }
  assert.ok(joined, "python3 joined the group on the TAP device");
}

/** Sends PAYLOAD to `group` every 100 ms (20 at most) until the Linux receiver `python` ends; its result. */
async function sendUntilReceived(
  h: Harness,
  conn: ReturnType<Harness["stack"]["listenDatagram"]>,
  python: Exec,
  group: string,
): Promise<Awaited<Exec>> {
  let result: Awaited<Exec> | undefined;
  python.then((r) => result = r);
  for (let i = 0; i < 20 && result === undefined; i++) {
    await conn.send(PAYLOAD, { hostname: group, port: PORT });
    h.runner.kick();
    await sleep(100);
  }
  return await python;
}

/** The first datagram `conn` receives within 6 s. */
async function receiveWithin6s(
  conn: ReturnType<Harness["stack"]["listenDatagram"]>,
): Promise<[Uint8Array, Deno.NetAddr]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const got = await Promise.race([
    conn.receive(),
    new Promise<null>((r) => timer = setTimeout(() => r(null), 6000)),
  ]);
  clearTimeout(timer);
  assert.ok(got !== null, "a datagram from Linux arrived within 6 s");
  return got as [Uint8Array, Deno.NetAddr];
}

Deno.test(gated(NEEDS, {
  name: "multicast over tap: a Linux socket joined to a group receives what the stack sends to it",
  async fn() {
    await withDevice({ mode: "tap" }, async (h) => {
      const python = h.exec(["/usr/bin/python3", "-c", RECEIVER], 10);
      // Wait (bounded) until Linux lists the group on the device.
      await linuxJoined(h, GROUP);
      const conn = h.stack.listenDatagram({ transport: "udp", port: 6000 });
      conn.setMulticastInterface(STACK_ADDRESS);
      const r = await sendUntilReceived(h, conn, python, GROUP);
      assert.equal(r.stdout.trim(), `${HEX} ${STACK_ADDRESS} 6000`, r.stderr);
      conn.close();
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "multicast over tap: a stack socket joined to a group receives what Linux sends to it",
  async fn() {
    await withDevice({ mode: "tap" }, async (h) => {
      const conn = h.stack.listenDatagram({ transport: "udp", port: PORT, reuseAddress: true });
      const m = await conn.joinMulticastV4(GROUP, STACK_ADDRESS);
      h.runner.kick();
      const python = h.exec(["/usr/bin/python3", "-c", SENDER], 10);
      const [data, from] = await receiveWithin6s(conn);
      assert.deepEqual(data, PAYLOAD);
      assert.deepEqual([from.hostname, from.port], [LINUX_ADDRESS, 6001]);
      await m.leave();
      h.runner.kick();
      conn.close();
      await python;
      await sleep(300); // tcpdump writes the leave
      // On the wire: the stack's IGMPv3 join (TO_EX {}, type 4) and leave (TO_IN {}, type 3).
      const t = await new Deno.Command("tshark", {
        args: [
          "-r",
          h.pcap,
          "-Y",
          `igmp.type == 0x22 && ip.src == ${STACK_ADDRESS}`,
          "-T",
          "fields",
          "-e",
          "igmp.record_type",
          "-e",
          "igmp.maddr",
        ],
        stdout: "piped",
        stderr: "null",
      }).output();
      const records = new TextDecoder().decode(t.stdout).trim().split("\n");
      assert.ok(records.includes(`4\t${GROUP}`), records.join("; "));
      assert.ok(records.includes(`3\t${GROUP}`), records.join("; "));
    });
  },
}));

const GROUP6 = "ff05::1:3";
const LINUX6 = "fd00::1";
const STACK6 = "fd00::2";

/** Adds fd00::1/64 on Linux's side and fd00::2/64 on the stack's, and waits for the stack's DAD. */
async function addIpv6(h: Harness): Promise<number> {
  await ip(["-6", "addr", "add", `${LINUX6}/64`, "dev", h.dev.name, "nodad"], { netns: h.netns });
  await waitLinuxIpv6Ready(h.netns, h.dev.name, LINUX6);
  const index = h.stack.interfaces.list()[0]!.index;
  h.stack.addAddress(index, `${STACK6}/64`);
  h.runner.kick();
  for (let i = 0; i < 40; i++) {
    const a = h.stack.interfaces.get(index)!.ipv6.find((x) =>
      x.state === "preferred" && x.address.length === 16 && x.address[0] === 0xfd
    );
    if (a !== undefined) break;
    await sleep(100);
  }
  return index;
}

Deno.test(gated(NEEDS, {
  name:
    "multicast over tap, IPv6: a Linux socket joined to ff05::1:3 receives what the stack sends to it",
  async fn() {
    await withDevice({ mode: "tap" }, async (h) => {
      const index = await addIpv6(h);
      const receiver = `
import socket, struct
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", ${PORT}))
mreq = socket.inet_pton(socket.AF_INET6, "${GROUP6}") + struct.pack("@I", socket.if_nametoindex("${h.dev.name}"))
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
s.settimeout(8)
data, addr = s.recvfrom(2048)
print(data.hex(), addr[0], addr[1])
`;
      const python = h.exec(["/usr/bin/python3", "-c", receiver], 10);
      await linuxJoined(h, GROUP6);
      const conn = h.stack.listenDatagram({ transport: "udp", hostname: "::", port: 6000 });
      conn.setMulticastInterface(index);
      const r = await sendUntilReceived(h, conn, python, GROUP6);
      assert.equal(r.stdout.trim(), `${HEX} ${STACK6} 6000`, r.stderr);
      conn.close();
    });
  },
}));

Deno.test(gated(NEEDS, {
  name:
    "multicast over tap, IPv6: a stack socket joined to ff05::1:3 receives what Linux sends to it",
  async fn() {
    await withDevice({ mode: "tap" }, async (h) => {
      const index = await addIpv6(h);
      const conn = h.stack.listenDatagram({
        transport: "udp",
        hostname: "::",
        port: PORT,
        reuseAddress: true,
      });
      await conn.joinMulticastV6(GROUP6, index);
      h.runner.kick();
      const sender = `
import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex("${h.dev.name}"))
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
s.bind(("${LINUX6}", 6001))
for _ in range(30):
    s.sendto(bytes(range(256)), ("${GROUP6}", ${PORT}))
    time.sleep(0.1)
`;
      const python = h.exec(["/usr/bin/python3", "-c", sender], 10);
      const [data, from] = await receiveWithin6s(conn);
      assert.deepEqual(data, PAYLOAD);
      assert.deepEqual([from.hostname, from.port], [LINUX6, 6001]);
      conn.close();
      await python;
    });
  },
}));
