/**
 * The two examples a newcomer writes first, `plugins/drop_port` (a firewall
 * hook on a destination port) and `plugins/udp_hello` (a UDP service on the
 * public API), loaded by a stack manifest on a virtual network, over IPv4
 * and IPv6, with fragmented datagrams (whole at `input`).
 */
import assert from "node:assert/strict";
import { checkLinkPlugin } from "../../cli/_link_plugin.ts";
import {
  createStack,
  loadStack,
  MILLISECOND,
  SECOND,
  type Stack,
  VirtualNetwork,
} from "../../mod.ts";

const DROP_PORT = new URL("../../plugins/drop_port/mod.ts", import.meta.url).href;
const UDP_HELLO = new URL("../../plugins/udp_hello/mod.ts", import.meta.url).href;
const DEFAULTS = ["ethernet", "arp", "ipv4", "icmp", "ipv6", "icmpv6", "ndp", "udp", "tcp"];

async function pair(): Promise<{ net: VirtualNetwork; client: Stack; server: Stack }> {
  const net = new VirtualNetwork({ seed: 5 });
  const link = net.link({ faults: { delay: MILLISECOND } });
  const server = net.addNode(
    await loadStack({
      plugins: [...DEFAULTS, { use: DROP_PORT, options: { port: 9 } }, UDP_HELLO],
    }, { clock: net.clock, seed: 2, strictCounters: true }),
  );
  const client = net.addNode(createStack({ clock: net.clock, seed: 1, strictCounters: true }));
  server.addInterface({ name: "eth0", driver: link.a, addresses: ["10.0.0.2/24", "fd00::2/64"] });
  client.addInterface({ name: "eth0", driver: link.b, addresses: ["10.0.0.1/24", "fd00::1/64"] });
  // IPv6 addresses start tentative: Duplicate Address Detection takes 1 s of virtual time.
  await net.run(() => new Promise<void>((r) => net.at(net.now() + 2 * SECOND, r)));
  return { net, client, server };
}

/** Sends `size` bytes to `hostname:port` and returns the answer's text, or null after 1 s. */
async function ask(
  net: VirtualNetwork,
  client: Stack,
  hostname: string,
  port: number,
  size = 5,
): Promise<string | null> {
  const sock = client.listenDatagram({ transport: "udp", hostname: "::", port: 0 });
  try {
    await sock.send(new Uint8Array(size).fill(0x61), { transport: "udp", hostname, port });
    const timeout = new Promise<null>((r) =>
      net.at(net.now() + 1_000 * MILLISECOND, () => r(null))
    );
    const answer = await Promise.race([sock.receive(), timeout]);
    return answer === null ? null : new TextDecoder().decode(answer[0]);
  } finally {
    sock.close();
  }
}

Deno.test("udp_hello answers over IPv4 and IPv6, a fragmented datagram too", async () => {
  const { net, client, server } = await pair();
  await net.run(async () => {
    assert.equal(await ask(net, client, "10.0.0.2", 4000), "hello 1\n");
    assert.equal(await ask(net, client, "fd00::2", 4000), "hello 2\n");
    assert.equal(await ask(net, client, "10.0.0.2", 4000, 4000), "hello 3\n");
    assert.equal(await ask(net, client, "fd00::2", 4000, 4000), "hello 4\n");
  });
  assert.equal(server.counters.value("udp_hello.answered"), 4);
  assert.ok(server.counters.value("ipv4.rx.reassembled") >= 1);
  server.close(); // teardown closes the socket; its loop ends without a rejection
  client.close();
  net.close();
});

Deno.test("drop_port drops TCP and UDP to its port in both families; other ports pass", async () => {
  const { net, client, server } = await pair();
  await net.run(async () => {
    const discard = server.listen({ port: 9 });
    const echo = server.listen({ port: 7 });
    const ok = await client.connect({ hostname: "10.0.0.2", port: 7 });
    ok.close();
    await assert.rejects(client.connect({ hostname: "10.0.0.2", port: 9, timeout: 500 }));
    await assert.rejects(client.connect({ hostname: "fd00::2", port: 9, timeout: 500 }));
    const blocked = server.counters.value("drop_port.input.blocked");
    // A UDP socket on 9 would answer nothing anyway: the count shows the hook saw it.
    assert.equal(await ask(net, client, "10.0.0.2", 9, 4000), null); // fragmented: whole at input
    assert.equal(await ask(net, client, "fd00::2", 9), null);
    assert.equal(server.counters.value("drop_port.input.blocked"), blocked + 2);
    discard.close();
    echo.close();
  });
  assert.ok(server.counters.value("drop_port.passed") > 0);
  assert.ok(server.counters.value("tcp.passive_opens") >= 1);
  server.close();
  client.close();
  net.close();
});

Deno.test("plugins/README.md's manifest for up --driver tun boots, with the raw-IP link served", async () => {
  const readme = await Deno.readTextFile(new URL("../../plugins/README.md", import.meta.url));
  const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const json = blocks.find((b) => b.includes("drop_port"));
  assert.ok(json !== undefined, "the manifest with drop_port");
  // Saved in plugins/, where its relative paths point (a unique name, removed afterwards).
  const file = new URL(`../../plugins/.tun-${Deno.pid}.json`, import.meta.url).pathname;
  await Deno.writeTextFile(file, json);
  try {
    const stack = await loadStack(file);
    checkLinkPlugin(stack, 101, "the tun device");
    assert.deepEqual(stack.describe().hooks.input, ["drop_port"]);
    assert.ok(stack.pluginNames.includes("udp_hello"));
    stack.close();
  } finally {
    await Deno.remove(file);
  }
});
