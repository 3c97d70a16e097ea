/**
 * `cli.ts up --wait poll|block` (block by default) and the blocking wait:
 * the device's JS thread asleep in `poll()` answers Linux's pings, and the
 * runner's timers (the stack's, `runner.delay`) end that sleep, so they are
 * never late by `blockMax`.
 *
 * Assertions are about structure (which wait ran, how long each sleep was
 * allowed to last), not microseconds: they hold on a loaded machine.
 *
 * @module
 */
import assert from "node:assert/strict";
import { gated, type Requirement } from "../_require.ts";
import { runUpWhileReady as up } from "../cli/_up.ts";
import { createStack, SystemClock } from "../../mod.ts";
import { openTun, RealTimeRunner, type TunDevice } from "../../drivers/tun/mod.ts";
import { SERVICES } from "../../plugins/services/mod.ts";
import { assertTsharkClean, tsharkRows } from "../_tshark.ts";
import { probeSetups } from "../cli/_warm_probe.ts";
import {
  configurePeer,
  INTEROP_NEEDS,
  LINUX_ADDRESS,
  netnsExec,
  pingCommand,
  pingSummary,
  pingUnanswered,
  STACK_ADDRESS,
  withNetns,
} from "./_netns.ts";

/** `up` flags for TUN device tun0 in namespace `ns`, Linux at 10.0.0.1, the stack at 10.0.0.2. */
function tunIn(ns: string, ...extra: string[]): string[] {
  return [
    "--driver",
    "tun",
    "--ifname",
    "tun0",
    "--netns",
    ns,
    "--address",
    `${STACK_ADDRESS}/24`,
    "--peer-address",
    `${LINUX_ADDRESS}/24`,
    ...extra,
  ];
}

Deno.test("up --wait or --keep-warm with a bad value, or with a driver without a device wait, is a usage error (exit 2)", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["--driver", "tun", "--address", "10.0.0.2/24", "--wait", "spin"],
      /--wait must be poll, block or spin=N \(N in 1\.\.10000 µs\), not "spin"/,
    ],
    [
      ["--driver", "tun", "--address", "10.0.0.2/24", "--wait", "spin=0"],
      /--wait must be poll, block or spin=N \(N in 1\.\.10000 µs\), not "spin=0"/,
    ],
    [
      ["--driver", "tun", "--address", "10.0.0.2/24", "--wait", ""],
      /--wait must be poll, block or spin=N \(N in 1\.\.10000 µs\), not ""/,
    ],
    [["--driver", "loopback", "--wait", "block"], /--wait needs --driver tun or tap/],
    [
      ["--driver", "tun", "--address", "10.0.0.2/24", "--keep-warm", "fast"],
      /--keep-warm must be a whole number of ms in 0\.\.1000, not "fast"/,
    ],
    [
      ["--driver", "tun", "--address", "10.0.0.2/24", "--keep-warm", "1001"],
      /--keep-warm must be a whole number of ms in 0\.\.1000, not "1001"/,
    ],
    [
      ["--driver", "tun", "--address", "10.0.0.2/24", "--wait", "poll", "--keep-warm", "5"],
      /--keep-warm needs --driver tun with --wait block or spin=N/,
    ],
    [["--driver", "loopback", "--keep-warm", "5"], /--keep-warm needs --driver tun/],
  ];
  for (const [args, message] of cases) {
    const r = await up(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.deepEqual(r.out, []);
    assert.equal(r.err.length, 1, r.err.join("\n"));
    assert.match(r.err[0]!, /^cli\.ts up: /);
    assert.match(r.err[0]!, message);
  }
});

Deno.test("up --help documents --wait", async () => {
  const r = await up(["--help"]);
  assert.match(r.out.join("\n"), /^ {2}--wait poll\|block\|spin=N +tun, tap: .*\(default block/m);
});

Deno.test(gated(INTEROP_NEEDS, {
  name:
    "up --driver tun waits with the JS thread asleep by default (block) and answers pings from idle",
  async fn() {
    await withNetns(async (ns) => {
      let ping = "";
      let dev: TunDevice | undefined;
      let wakeups = 0;
      const r = await up(tunIn(ns), async (stack) => {
        dev = stack.interfaces.byName("tun0")!.driver as TunDevice;
        const before = dev.stats.blockWakeups;
        // 100 ms apart: the device is quiet between pings, so each wakes the sleeping thread.
        const command = pingCommand(STACK_ADDRESS, { count: 5, interval: 0.1, deadline: 5 });
        ping = (await netnsExec(ns, command, 10)).stdout;
        wakeups = dev.stats.blockWakeups - before;
      });
      assert.equal(r.code, 0, r.err.join("\n"));
      assert.deepEqual(r.err, [], "no warning: the blocking wait works here");
      assert.equal(dev?.blocking, true, "block is the default");
      const unanswered = pingUnanswered(ping, 5);
      assert.deepEqual(
        unanswered,
        [],
        `no reply to icmp_seq ${unanswered}: ${deviceCounters(dev!)}\n${ping}`,
      );
      assert.ok(wakeups >= 1, `pings ended a blocking wait ${wakeups} times`);
      // One reply per request (ping sends more than 5 only while a reply is late).
      const replies = Number(/^ {2}tx\.echo_replies +(\d+)$/m.exec(r.out.join("\n"))?.[1]);
      assert.ok(replies >= 5 && replies <= pingSummary(ping).sent, `${replies} echo replies`);
    });
  },
}));

Deno.test(gated(INTEROP_NEEDS, {
  name: "up --driver tun --wait spin=N busy-polls after a frame and answers pings 2 ms apart",
  async fn() {
    const count = 20;
    await withNetns(async (ns) => {
      let ping = "";
      let dev: TunDevice | undefined;
      let icmp = "";
      const r = await up(tunIn(ns, "--wait", "spin=10000"), async (stack) => {
        dev = stack.interfaces.byName("tun0")!.driver as TunDevice;
        // With a deadline: ping waits for every reply (see PingCommandOptions.deadline).
        const command = pingCommand(STACK_ADDRESS, { count, interval: 0.002, deadline: 5 });
        ping = (await netnsExec(ns, command, 10)).stdout;
        const c = (name: string) => stack.counters.value(name);
        icmp = `the stack's icmp.rx.echo_requests ${c("icmp.rx.echo_requests")}, ` +
          `icmp.tx.echo_replies ${c("icmp.tx.echo_replies")}`;
      });
      assert.equal(r.code, 0, r.err.join("\n"));
      assert.deepEqual(r.err, [], "no warning: the blocking wait works here");
      assert.equal(dev?.blocking, true, "spin is block with a busy-poll");
      const unanswered = pingUnanswered(ping, count);
      assert.deepEqual(
        unanswered,
        [],
        `pings with no reply (icmp_seq): ${unanswered.join(", ")}; ${icmp}; ` +
          `the device's counters ${deviceCounters(dev!)}\n${ping}`,
      );
      // up's spin reached the loop: it busy-polled after frames. Whether a
      // spin also caught the next ping depends on ping getting a core
      // meanwhile: with ping, the stack and two busy loops on one core, none
      // did in 7 of 20 runs, so that is io_test's to check, not this test's.
      assert.ok(dev!.stats.spins >= 1, `no spin: ${deviceCounters(dev!)}`);
    });
  },
}));

Deno.test(gated([...INTEROP_NEEDS, "tshark"], {
  name:
    "up --driver tun keeps the echo path warm between pings, and no warm-up reaches the device, the capture or the stack's counters",
  async fn() {
    const count = 5;
    await withNetns(async (ns) => {
      const dir = await Deno.makeTempDir({ prefix: "warmidle" });
      const file = `${dir}/up.pcap`;
      try {
        let ping = "";
        let dev: TunDevice | undefined;
        let counters = "";
        const r = await up(tunIn(ns, "--capture", file), async (stack) => {
          // The capture's tap wraps the device.
          dev = (stack.interfaces.byName("tun0")!.driver as unknown as { inner: TunDevice }).inner;
          const command = pingCommand(STACK_ADDRESS, { count, interval: 0.1, deadline: 5 });
          ping = (await netnsExec(ns, command, 10)).stdout;
          // Still within the window after the last ping: warm-ups go on meanwhile.
          await new Promise((r) => setTimeout(r, 300));
          const c = (name: string) => stack.counters.value(name);
          counters = `${c("icmp.rx.echo_requests")} ${c("icmp.tx.echo_replies")}`;
        });
        assert.equal(r.code, 0, r.err.join("\n"));
        assert.deepEqual(pingUnanswered(ping, count), [], ping);
        const s = dev!.stats;
        // 100 ms between pings, 5 ms slices (the default): ~20 warm-ups per gap.
        assert.ok(s.keepWarms >= 20, `keepWarms ${s.keepWarms}: ${deviceCounters(dev!)}`);
        const sent = pingSummary(ping).sent;
        assert.equal(counters, `${sent} ${sent}`, "echo requests and replies: ping's only");
        await assertTsharkClean(file);
        // Every frame the device read or wrote is in the capture, and nothing else is.
        const rows = await tsharkRows(file, "frame", ["frame.number", "ip.src", "icmp.type"]);
        assert.equal(rows.length, s.rxPackets + s.txPackets, deviceCounters(dev!));
        const replies = rows.filter((row) => row[1] === STACK_ADDRESS && row[2] === "0");
        assert.equal(replies.length, sent, rows.join("\n"));
        // The shadow's addresses (TEST-NET-1) appear nowhere.
        assert.deepEqual(rows.filter((row) => row.some((f) => f.startsWith("192.0.2."))), []);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
}));

Deno.test(gated([...INTEROP_NEEDS, "tshark"], {
  name:
    "up --manifest keeps the user's hook warm in the shadow, never its service; IPv6 pings too; --keep-warm 0 has no shadow",
  async fn() {
    const count = 5;
    const dir = await Deno.makeTempDir({ prefix: "warmmanifest" });
    try {
      const manifest = `${dir}/stack.json`;
      const probe = (file: string) => new URL(`../cli/${file}`, import.meta.url).href;
      await Deno.writeTextFile(
        manifest,
        JSON.stringify({
          plugins: ["rawip", "ipv4", "icmp", "ipv6", "icmpv6", {
            use: probe("_warm_probe.ts"),
          }, { use: probe("_warm_probe_service.ts") }],
        }),
      );
      for (const keepWarm of ["5", "0"]) {
        probeSetups.length = 0;
        await withNetns(async (ns) => {
          const file = `${dir}/up${keepWarm}.pcap`;
          let ping = "";
          let dev: TunDevice | undefined;
          const args = tunIn(
            ns,
            "--manifest",
            manifest,
            "--keep-warm",
            keepWarm,
            "--capture",
            file,
          );
          args.push("--address", "fd00:77::2/64", "--peer-address", "fd00:77::1/64");
          const r = await up(args, async (stack) => {
            dev = (stack.interfaces.byName("tun0")!.driver as unknown as { inner: TunDevice })
              .inner;
            const command = pingCommand("fd00:77::2", {
              count,
              interval: 0.1,
              deadline: 5,
              ipv6: true,
            });
            ping = (await netnsExec(ns, command, 10)).stdout;
            await new Promise((r) => setTimeout(r, 300));
          });
          assert.equal(r.code, 0, r.err.join("\n"));
          assert.deepEqual(pingUnanswered(ping, count), [], ping);
          const s = dev!.stats;
          const setups = probeSetups.map((p) => p.plugin).join(" ");
          if (keepWarm === "0") {
            assert.equal(s.keepWarms, 0, deviceCounters(dev!));
            assert.equal(setups, "warmprobe warmprobe_service", "one stack: no shadow");
            return;
          }
          // up's stack, then the shadow: the hook in both, the service in up's only.
          assert.equal(setups, "warmprobe warmprobe_service warmprobe");
          const [real, , shadow] = probeSetups;
          assert.ok(s.keepWarms >= 20, `keepWarms ${s.keepWarms}: ${deviceCounters(dev!)}`);
          // Each tick: one IPv4 and one IPv6 echo through the shadow's hook.
          assert.equal(shadow!.hooked, 2 * s.keepWarms, deviceCounters(dev!));
          // up's hook saw the device's frames only (ping's, the ready check's).
          assert.ok(real!.hooked <= s.rxPackets, `${real!.hooked} > ${s.rxPackets}`);
          await assertTsharkClean(file);
          const rows = await tsharkRows(file, "frame", ["ip.src", "ipv6.src", "ipv6.dst"]);
          assert.equal(rows.length, s.rxPackets + s.txPackets, deviceCounters(dev!));
          // The shadow's addresses (192.0.2.0/24, 2001:db8::/32) appear nowhere.
          const shadowed = rows.filter((row) =>
            row.some((f) => f.startsWith("192.0.2.") || f.startsWith("2001:db8:"))
          );
          assert.deepEqual(shadowed, []);
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));

Deno.test("up --help documents --keep-warm", async () => {
  const r = await up(["--help"]);
  assert.match(r.out.join("\n"), /^ {2}--keep-warm MS +tun with --wait block .*\(default\s+5;/ms);
});

/** The device loop's frame and wait counters, for a failure message. */
function deviceCounters(dev: TunDevice): string {
  const s = dev.stats;
  return `rxPackets ${s.rxPackets}, txPackets ${s.txPackets}, rxBatches ${s.rxBatches}, ` +
    `polls ${s.polls}, spins ${s.spins}, spinWakeups ${s.spinWakeups}, ` +
    `blockWaits ${s.blockWaits}, blockWakeups ${s.blockWakeups}, rxErrors ${s.rxErrors}, ` +
    `txErrors ${s.txErrors}, callbackErrors ${s.callbackErrors}, keepWarms ${s.keepWarms}`;
}

Deno.test(gated(INTEROP_NEEDS, {
  name: "up --driver tun --wait poll waits on a worker thread and answers pings",
  async fn() {
    await withNetns(async (ns) => {
      let ping = "";
      let dev: TunDevice | undefined;
      const r = await up(tunIn(ns, "--wait", "poll"), async (stack) => {
        dev = stack.interfaces.byName("tun0")!.driver as TunDevice;
        const command = pingCommand(STACK_ADDRESS, { count: 3, interval: 0.05, deadline: 5 });
        ping = (await netnsExec(ns, command, 10)).stdout;
      });
      assert.equal(r.code, 0, r.err.join("\n"));
      assert.equal(dev?.blocking, false);
      assert.equal(dev?.stats.blockWaits, 0);
      const unanswered = pingUnanswered(ping, 3);
      assert.deepEqual(
        unanswered,
        [],
        `no reply to icmp_seq ${unanswered}: ${deviceCounters(dev!)}\n${ping}`,
      );
    });
  },
}));

Deno.test(gated(INTEROP_NEEDS, {
  name:
    "a runner timer and a runner delay end the device's blocking wait: no sleep is allowed past them",
  async fn() {
    await withNetns(async (netns) => {
      const clock = new SystemClock();
      const stack = createStack({ clock, seed: 7 });
      // A 1 s blockMax: were the runner's timers not bounding the sleep, they would be ~1 s late.
      const dev = openTun({ mode: "tun", name: "tun0", netns, wait: "block", blockMax: 1000 });
      const runner = new RealTimeRunner(stack, { clock });
      // Each sleep's allowed length, and the runner's own next timer at that moment.
      const budgets: { budget: number; pending: string }[] = [];
      let pending = "";
      dev.waitBudget = () => {
        const budget = runner.msUntilWake();
        budgets.push({ budget, pending });
        return budget;
      };
      try {
        stack.addInterface({ driver: dev, addresses: [`${STACK_ADDRESS}/24`] });
        dev.onBatch = runner.kick;
        runner.start();
        await configurePeer("tun0", { addresses: [`${LINUX_ADDRESS}/24`], netns });
        assert.equal(dev.blocking, true);

        // A runner delay of 40 ms while the device sleeps.
        const waits0 = dev.stats.blockWaits;
        pending = "delay";
        const t0 = clock.now();
        await runner.delay(40);
        const delayTook = (clock.now() - t0) / 1000;
        pending = "";
        assert.ok(dev.stats.blockWaits > waits0, "the device slept during the delay");
        assert.ok(delayTook >= 40, `the delay took ${delayTook} ms`);

        // A stack timer: a ping nobody answers times out after 60 ms.
        const waits1 = dev.stats.blockWaits;
        pending = "ping";
        const t1 = clock.now();
        const failed = await stack.ping("10.0.0.9", { timeout: 60 }).then(
          () => "answered",
          (e: Error) => e.name,
        );
        const pingTook = (clock.now() - t1) / 1000;
        pending = "";
        assert.equal(failed, "TimedOut");
        assert.ok(dev.stats.blockWaits > waits1, "the device slept during the ping");
        assert.ok(pingTook >= 60, `the ping timed out after ${pingTook} ms`);

        // The structure that keeps them on time: no sleep was allowed past the pending timer.
        const during = (what: string) => budgets.filter((b) => b.pending === what);
        assert.ok(during("delay").length >= 1 && during("ping").length >= 1, "budgets asked");
        for (const b of during("delay")) {
          assert.ok(b.budget <= 40, `delay: sleep of ${b.budget} ms`);
        }
        for (const b of during("ping")) assert.ok(b.budget <= 60, `ping: sleep of ${b.budget} ms`);
        // And neither waited for blockMax (a loose bound, for a loaded machine).
        assert.ok(delayTook < 900 && pingTook < 900, `${delayTook} ms, ${pingTook} ms`);
      } finally {
        runner.stop();
        stack.close();
        dev.close();
        await dev.closed;
      }
    });
  },
}));

/**
 * A Python client in the namespace: `count` 64-byte requests to the echo
 * service, one in flight, TCP_NODELAY, a 5 ms pause every 50; prints how
 * many came back whole.
 */
function echoClient(count: number): string[] {
  const code = `
import socket, time
s = socket.create_connection(("${STACK_ADDRESS}", 7), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
req = b"r" * 64
done = 0
for i in range(${count}):
    if i % 50 == 49:
        time.sleep(0.005)  # quiet for a moment: the device goes to sleep
    s.sendall(req)
    got = b""
    while len(got) < 64:
        b = s.recv(64 - len(got))
        if not b:
            break
        got += b
    if got != req:
        break
    done += 1
s.close()
print(done)
`;
  return ["python3", "-c", code];
}

const RR_NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "python3"];

Deno.test(gated(RR_NEEDS, {
  name:
    "up --wait block: TCP request/response with the echo service never sleeps with a reply pending",
  async fn() {
    // Issue #13: the device slept while the echo's reply was still queued in
    // promise callbacks, so it went out only with Linux's next frame (its
    // delayed ACK, 40 ms later). Checked by structure: each time the device
    // is about to sleep, the echo service must have answered every byte the
    // stack received on port 7.
    const count = 500;
    await withNetns(async (ns) => {
      let out = "";
      let dev: TunDevice | undefined;
      let sleeps = 0;
      let sleptWithPending = 0;
      const r = await up(tunIn(ns, "--wait", "block", "--serve", "echo"), async (stack) => {
        dev = stack.interfaces.byName("tun0")!.driver as TunDevice;
        const budget = dev.waitBudget!;
        dev.waitBudget = () => {
          let received = 0;
          for (const s of stack.sockets()) {
            if (s.local.endsWith(":7") && s.bytesReceived !== undefined) {
              received += s.bytesReceived;
            }
          }
          sleeps++;
          if (received > stack.counters.value("echo.bytes")) sleptWithPending++;
          return budget();
        };
        // Bounded: 500 round trips take well under a second unless replies stall.
        out = (await netnsExec(ns, echoClient(count), 60)).stdout.trim();
        dev.waitBudget = budget;
      }, { services: SERVICES });
      assert.equal(r.code, 0, r.err.join("\n"));
      assert.equal(dev?.blocking, true, "--wait block blocks");
      assert.equal(out, String(count), "every request answered");
      assert.equal(
        sleptWithPending,
        0,
        `${sleptWithPending} of ${sleeps} sleeps had a reply pending`,
      );
    });
  },
}));
