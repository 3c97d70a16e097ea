import assert from "node:assert/strict";
import { loadStack, type Stack, VirtualNetwork } from "../../mod.ts";
import type { HelloService } from "../../plugins/hello_ether/mod.ts";
import { kernelOf } from "../../stack/stack.ts";

const HELLO = new URL("../../plugins/hello_ether/mod.ts", import.meta.url).href;
const BLOCK = new URL("../../plugins/block_source/mod.ts", import.meta.url).href;

async function lan(
  manifests: Parameters<typeof loadStack>[0][],
): Promise<{ net: VirtualNetwork; hosts: Stack[] }> {
  const net = new VirtualNetwork({ seed: 3 });
  const sw = net.switch();
  const hosts: Stack[] = [];
  for (const [i, m] of manifests.entries()) {
    const s = net.addNode(await loadStack(m, { clock: net.clock, rng: net.rng.fork() }));
    s.addInterface({ name: "eth0", driver: sw.port(), addresses: [`10.0.0.${i + 1}/24`] });
    hosts.push(s);
  }
  return { net, hosts };
}

Deno.test("hello plugin loaded from a JSON stack manifest answers HELLO with HI", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Paths in a manifest file are relative to the file.
    const rel = new URL("../../plugins/hello_ether/mod.ts", import.meta.url).pathname;
    const file = `${dir}/stack.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ name: "hello-host", plugins: ["ethernet", "arp", "ipv4", "icmp", rel] }),
    );
    const { net, hosts } = await lan([file, {
      plugins: ["ethernet", "arp", "ipv4", "icmp", HELLO],
    }]);
    const [a, b] = hosts as [Stack, Stack];
    assert.equal(a.name, "hello-host");
    const hello = a.service<HelloService>("hello.send")!;
    hello.send(0, b.interfaces.get(0)!.mac!, "from a");
    net.runUntilIdle();
    assert.deepEqual(hello.answers(), ["from a"]);
    assert.equal(b.counters.value("hello.rx.hello"), 1);
    assert.equal(a.counters.value("hello.rx.hi"), 1);
    assert.match(a.graph(), /eth0 -> ethernet -\[ethertype 0x88b5\]-> hello/);
    for (const h of hosts) h.close();
    net.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hello plugin counts frames it does not understand", async () => {
  const { net, hosts } = await lan([
    { plugins: ["ethernet", "arp", "ipv4", "icmp", HELLO] },
    { plugins: ["ethernet", "arp", "ipv4", "icmp", HELLO] },
  ]);
  const [a, b] = hosts as [Stack, Stack];
  const frame = new Uint8Array(60);
  frame.set(b.interfaces.get(0)!.mac!, 0);
  frame.set(a.interfaces.get(0)!.mac!, 6);
  frame.set([0x88, 0xb5], 12);
  frame.set(new TextEncoder().encode("BYE now"), 14);
  kernelOf(b).inject(0, frame);
  assert.equal(b.counters.value("hello.rx.unknown_message"), 1);
  for (const h of hosts) h.close();
  net.close();
});

Deno.test("block_source hook drops pings from a listed source and passes others", async () => {
  const { net, hosts } = await lan([
    {
      plugins: ["ethernet", "arp", "ipv4", "icmp", {
        use: BLOCK,
        options: { sources: "10.0.0.3/32" },
      }],
    },
    { plugins: ["ethernet", "arp", "ipv4", "icmp"] },
    { plugins: ["ethernet", "arp", "ipv4", "icmp"] },
  ]);
  const [a, b, c] = hosts as [Stack, Stack, Stack];
  const ok = await net.run(() => b.ping("10.0.0.1"));
  assert.equal(ok.from, "10.0.0.1");
  await assert.rejects(
    net.run(() => c.ping("10.0.0.1", { timeout: 200 })),
    Deno.errors.TimedOut,
  );
  assert.equal(a.counters.value("block_source.prerouting.blocked"), 1);
  assert.ok(a.counters.value("block_source.passed") >= 1);
  for (const h of hosts) h.close();
  net.close();
});

Deno.test("block_source rejects an option that is not a CIDR at boot", async () => {
  await assert.rejects(
    loadStack({
      plugins: ["ethernet", "arp", "ipv4", { use: BLOCK, options: { sources: "ten.0.0.1" } }],
    }),
    /cannot parse "ten.0.0.1"/,
  );
});
