/**
 * `up` with a stack manifest that leaves out the plugin for its device's link
 * type (a TUN device carries raw IP: `rawip`; TAP, packet, vxlan and the
 * in-memory peer carry Ethernet: `ethernet`) fails at start, before any device
 * is opened, with one line naming the plugin to add. It used to print "ready"
 * and then drop every frame (`dispatcher.rx.no_binding`,
 * `dispatcher.tx.no_link_output`): a newcomer's manifest copied from
 * plugins/README.md (Ethernet first, no rawip) answered nothing over TUN.
 */
import assert from "node:assert/strict";
import { runCli } from "./_run.ts";

// Never created: were a device opened before the check, it would fail on this
// name instead, never touching the host's own namespace.
const ABSENT_NETNS = "link-plugin-test-absent";

/** Asserts one `cli.ts up: …` line matching `why`, exit 1, no stack trace. */
function assertBootFailure(r: { code: number; stderr: string }, why: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^cli\.ts up: /);
  assert.match(lines[0]!, why);
}

Deno.test("up: a manifest without the device's link plugin fails at start, naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "newcomer_link_" });
  try {
    await Deno.writeTextFile(
      `${dir}/ethernet.json`,
      JSON.stringify({ plugins: ["ethernet", "arp", "ipv4", "icmp", "udp", "tcp"] }),
    );
    await Deno.writeTextFile(
      `${dir}/raw.json`,
      JSON.stringify({ plugins: ["rawip", "ipv4", "icmp", "udp", "tcp"] }),
    );
    // Before any device is opened: no root, no /dev/net/tun needed to see it.
    const tun = await runCli([
      "up",
      ...["--driver", "tun", "--netns", ABSENT_NETNS, "--address", "10.0.0.2/24"],
      ...["--manifest", `${dir}/ethernet.json`],
    ]);
    assertBootFailure(tun, /tun device .*raw IP.*add "rawip" to the manifest/);
    const tap = await runCli([
      "up",
      ...["--driver", "tap", "--netns", ABSENT_NETNS, "--address", "10.0.0.2/24"],
      ...["--manifest", `${dir}/raw.json`],
    ]);
    assertBootFailure(tap, /tap device .*Ethernet.*add "ethernet" to the manifest/);
    const loopback = await runCli(["up", "--driver", "loopback", "--manifest", `${dir}/raw.json`]);
    assertBootFailure(loopback, /add "ethernet" to the manifest/);
    const gateway = await runCli([
      "up",
      ...["--tun", "tun1", "--netns", ABSENT_NETNS, "--address", "10.1.0.1/24"],
      ...["--manifest", `${dir}/ethernet.json`],
    ]);
    assert.equal(gateway.code, 1, gateway.stderr);
    assert.match(gateway.stderr, /^cli\.ts up: .*tun1.*add "rawip" to the manifest\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
