/**
 * The stack on a real Linux TUN device (raw IP), Linux at 10.0.0.1 inside a
 * private network namespace: ping both ways, large pings (IPv4 fragments),
 * moving a device between namespaces, attach/busy/mismatch errors, and that
 * close() removes the device. Every test's tcpdump capture is checked with
 * tshark (see _netns.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { createStack } from "../../mod.ts";
import { openTun, RealTimeRunner } from "../../drivers/tun/mod.ts";
import { PacketPool } from "../../stack/packet_pool.ts";
import { SystemClock } from "../../stack/clock.ts";
import {
  configurePeer,
  INTEROP_NEEDS,
  ip,
  LINUX_ADDRESS,
  netnsExec,
  pingCommand,
  pingSummary,
  pingUnanswered,
  runCommand,
  STACK_ADDRESS,
  withDevice,
  withNetns,
} from "./_netns.ts";
import { gated, type Requirement } from "../_require.ts";

/** What every test here needs: a TUN device in a namespace of its own, and ping. */
const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "ping"];

Deno.test(gated(NEEDS, {
  name: "tun: Linux pings the stack 20 times (ping -c 20 -i 0.05), 0% loss",
  async fn() {
    await withDevice({ mode: "tun" }, async (h) => {
      const r = await h.exec(
        pingCommand(STACK_ADDRESS, { count: 20, interval: 0.05, deadline: 5 }),
        20,
      );
      assert.deepEqual(pingUnanswered(r.stdout, 20), [], r.stdout);
      // One reply per request (ping sends more than 20 only while a reply is late).
      const replies = h.stack.counters.snapshot()["icmp.tx.echo_replies"] ?? 0;
      assert.ok(replies >= 20 && replies <= pingSummary(r.stdout).sent, `${replies} echo replies`);
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "tun: the stack pings Linux and gets 5 replies",
  async fn() {
    await withDevice({ mode: "tun" }, async (h) => {
      for (let i = 0; i < 5; i++) {
        const reply = h.stack.ping(LINUX_ADDRESS, { timeout: 2000 });
        h.runner.kick();
        const r = await reply;
        assert.equal(r.from, LINUX_ADDRESS);
        assert.equal(r.ttl, 64);
      }
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "tun: ping -s 4000 is answered (IPv4 fragments both ways)",
  async fn() {
    await withDevice({ mode: "tun" }, async (h) => {
      const r = await h.exec([
        "ping",
        "-n",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "1",
        "-s",
        "4000",
        STACK_ADDRESS,
      ], 15);
      assert.deepEqual(pingSummary(r.stdout), { sent: 3, received: 3, loss: 0 }, r.stdout);
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "tun: Linux sees the device's MTU and the stack reads frames up to it",
  async fn() {
    await withDevice({ mode: "tun" }, async (h) => {
      const link = await ip(["-o", "link", "show", "dev", h.dev.name], { netns: h.netns });
      assert.match(link, / mtu 1500 /);
      assert.equal(h.dev.mtu, 1500);
      // Not asked for: Linux's own transmit queue of a new device.
      assert.match(link, / qlen 500\b/);
      assert.equal(h.dev.txQueueLength, 500);
      // 1472 bytes of ICMP data = a 1500-byte IP packet, the largest unfragmented one.
      const r = await h.exec([
        "ping",
        "-n",
        "-c",
        "2",
        "-i",
        "0.1",
        "-W",
        "1",
        "-M",
        "do",
        "-s",
        "1472",
        STACK_ADDRESS,
      ], 10);
      assert.deepEqual(pingSummary(r.stdout), { sent: 2, received: 2, loss: 0 }, r.stdout);
      assert.equal(h.dev.stats.rxTruncated, 0);
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "tun: the fd keeps working after `ip link set DEV netns NS` moves the device",
  async fn() {
    // Made in our own namespace, then moved: the name must be unique out here.
    const name = `tunmv${crypto.getRandomValues(new Uint16Array(1))[0]!.toString(16)}`;
    await withNetns(async (netns) => {
      const clock = new SystemClock();
      const stack = createStack({ clock, seed: 5 });
      const dev = openTun({ mode: "tun", name });
      try {
        await ip(["link", "set", "dev", name, "netns", netns]);
        stack.addInterface({ driver: dev, addresses: [`${STACK_ADDRESS}/24`] });
        const runner = new RealTimeRunner(stack, { clock });
        dev.onBatch = runner.kick;
        runner.start();
        try {
          await configurePeer(name, { addresses: [`${LINUX_ADDRESS}/24`], netns });
          const r = await netnsExec(netns, [
            "ping",
            "-n",
            "-c",
            "3",
            "-i",
            "0.1",
            "-W",
            "1",
            STACK_ADDRESS,
          ], 10);
          assert.deepEqual(pingSummary(r.stdout), { sent: 3, received: 3, loss: 0 }, r.stdout);
        } finally {
          runner.stop();
        }
      } finally {
        stack.close();
        await dev.closed;
      }
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "tun: close() wakes the pending poll, closes the fd and removes the device",
  async fn() {
    await withNetns(async (netns) => {
      const dev = openTun({ mode: "tun", name: "tun7", netns, pollTimeout: 60_000 });
      dev.attach({ receive: (p) => p.release(), pool: new PacketPool(), now: () => 0, ifindex: 1 });
      assert.match(await ip(["-o", "link", "show", "dev", "tun7"], { netns }), /tun7/);
      dev.close();
      // With a 60 s poll timeout, only the eventfd wake-up can end the loop this soon.
      await dev.closed;
      assert.equal(dev.fd, -1);
      const r = await runCommand("ip", ["-n", netns, "link", "show", "dev", "tun7"]);
      assert.notEqual(r.code, 0, "the device is gone once its only fd is closed");
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "openTun() attaches to an existing device by name; a second open is Busy",
  async fn() {
    await withNetns(async (netns) => {
      await ip(["tuntap", "add", "dev", "tunp0", "mode", "tun"], { netns });
      const dev = openTun({ mode: "tun", name: "tunp0", netns });
      try {
        assert.equal(dev.name, "tunp0");
        assert.throws(
          () => openTun({ mode: "tun", name: "tunp0", netns }),
          (e) => e instanceof Deno.errors.Busy && /busy/.test(e.message),
        );
        assert.throws(
          () => openTun({ mode: "tap", name: "tunp0", netns }),
          (e) => e instanceof TypeError && /exists and is not of this kind/.test(e.message),
        );
      } finally {
        dev.close();
        await dev.closed;
      }
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "openTun() with a missing namespace throws NotFound naming it",
  fn() {
    assert.throws(
      () => openTun({ mode: "tun", netns: "no-such-ns-for-tun-test" }),
      (e) => e instanceof Deno.errors.NotFound && /no-such-ns-for-tun-test/.test(e.message),
    );
  },
}));

Deno.test(gated([...NEEDS, "setpriv"], {
  name: "openTun() without CAP_NET_ADMIN throws PermissionDenied with a hint",
  async fn() {
    const script = new URL("../../drivers/tun/mod.ts", import.meta.url).href;
    const code = `import { openTun } from "${script}";
try { openTun({ mode: "tun" }); console.log("opened"); }
catch (e) { console.log(e.constructor.name + ": " + e.message); }`;
    // Root without CAP_NET_ADMIN in its bounding set: creating a device fails with EPERM.
    const r = await runCommand("setpriv", [
      "--bounding-set=-net_admin",
      "--inh-caps=-all",
      "--",
      Deno.execPath(),
      "eval",
      code,
    ]);
    assert.match(r.stdout, /^PermissionDenied: .*CAP_NET_ADMIN.*--allow-ffi/m, r.stdout + r.stderr);
  },
}));

Deno.test(gated(NEEDS, {
  name:
    "openTun({ mtu, up, txQueueLength }) sets the Linux MTU, IFF_UP and txqueuelen through ioctls",
  async fn() {
    await withNetns(async (netns) => {
      const dev = openTun({
        mode: "tap",
        name: "tapm0",
        netns,
        mtu: 1400,
        up: true,
        txQueueLength: 4321,
      });
      try {
        assert.equal(dev.mtu, 1400);
        assert.equal(dev.txQueueLength, 4321);
        const link = await ip(["-o", "link", "show", "dev", "tapm0"], { netns });
        assert.match(link, /<[^>]*\bUP\b[^>]*> mtu 1400 /);
        assert.match(link, / qlen 4321\b/);
        assert.ok(dev.linuxMac !== null);
        const mac = [...dev.linuxMac].map((b) => b.toString(16).padStart(2, "0")).join(":");
        assert.match(link, new RegExp(`link/ether ${mac} `));
      } finally {
        dev.close();
        await dev.closed;
      }
    });
  },
}));
