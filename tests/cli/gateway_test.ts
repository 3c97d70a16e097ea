/**
 * `cli.ts up` with several interfaces (gateway mode), without privileges:
 * two in-memory LANs of virtual hosts routed by the gateway, and the flag
 * checks (usage errors exit 2 with one line).
 */
import assert from "node:assert/strict";
import { runUpWhileReady as up } from "./_up.ts";
import { UP_HELP } from "../../cli/up.ts";
import { GATEWAY_FLAGS, parseGatewayArgs } from "../../cli/_gateway_args.ts";
import { SERVICES } from "../../plugins/services/mod.ts";
import { formatNatRule } from "../../stack/protocols/nat/mod.ts";
import type { Stack } from "../../mod.ts";

Deno.test("up gateway: two LANs, forwarding on, the hosts of each answer the gateway and run --hosts-serve", async () => {
  const r = await up(
    [
      "--forward",
      "--lan",
      "lan0",
      "--hosts",
      "2",
      "--hosts-serve",
      "echo",
      "--address",
      "10.3.0.1/24",
      "--address",
      "fd03::1/64",
      "--lan",
      "lan1",
      "--address",
      "10.4.0.1/24",
    ],
    async (stack) => {
      assert.equal(stack.forwarding, true);
      assert.equal((await stack.ping("10.3.0.3")).from, "10.3.0.3");
      assert.equal((await stack.ping("10.4.0.2")).from, "10.4.0.2");
      assert.equal((await stack.ping("fd03::2")).from, "fd03::2");
      // Both hosts of lan0 run the echo service.
      for (const host of ["10.3.0.2", "10.3.0.3"]) {
        const conn = await stack.connect({ hostname: host, port: 7 });
        await conn.write(new TextEncoder().encode("hi"));
        const buf = new Uint8Array(2);
        let n = 0;
        while (n < 2) n += (await conn.read(buf.subarray(n)))!;
        assert.equal(new TextDecoder().decode(buf), "hi");
        conn.close();
      }
    },
    { services: SERVICES },
  );
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.equal(r.out[0], "ready lan0 10.3.0.1/24 fd03::1/64, lan1 10.4.0.1/24");
  assert.ok(r.out.some((l) => /^lan0: rx \d+ packets/.test(l)));
});

Deno.test("up gateway: usage errors are one line and exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--tun", "tun1"], /--tun tun1 needs an --address/],
    [["--address", "10.0.0.1/24", "--tun", "tun1"], /--address must follow the interface/],
    [["--tun", "t1", "--address", "10.1.0.1/24", "--hosts", "3"], /--hosts applies to --lan/],
    [["--tun", "bad name!", "--address", "10.1.0.1/24"], /not an interface name/],
    [
      ["--tun", "t1", "--address", "10.1.0.1/24", "--tun", "t1", "--address", "10.2.0.1/24"],
      /given twice/,
    ],
    [
      ["--tun", "t1", "--address", "10.1.0.1/24", "--tun", "t2", "--address", "10.1.0.1/16"],
      /given to both t1 and t2/,
    ],
    [["--tun", "t1", "--address", "10.1.0.1/24", "--npt", "fd01::/48"], /--npt must be/],
    [
      ["--tun", "t1", "--address", "10.1.0.1/24", "--npt", "fd01::/48=2001:db8::/56"],
      /same length/,
    ],
    [["--lan", "l0", "--address", "fd00::1/64"], /needs an IPv4 --address/],
    [["--tun", "t1", "--address", "10.1.0.1/24", "--bogus"], /Unknown option '--bogus'/],
    [
      ["--tun", "t1", "--address", "10.1.0.1/24", "--masquerade", "t2"],
      /--masquerade: no interface t2/,
    ],
    [
      ["--masquerade", "bad name!", "--tun", "t1", "--address", "10.1.0.1/24"],
      /not an interface name/,
    ],
    [["--tun", "t1", "--address", "10.1.0.1/24", "--snat", "t1"], /--snat must be IF=ADDR/],
    [["--tun", "t1", "--address", "10.1.0.1/24", "--snat", "t1=10.9.0.9-10.9.0.1"], /reversed/],
    [
      ["--tun", "t1", "--address", "10.1.0.1/24", "--forward-port", "tcp:80"],
      /--forward-port must be/,
    ],
    [
      ["--tun", "t1", "--address", "10.1.0.1/24", "--forward-port", "tcp:80=10.1.0.2:99999"],
      /within 1\.\.65535/,
    ],
    [
      ["--tun", "t1", "--address", "10.1.0.1/24", "--forward-port", "udp:53=10.1.0.2@t9"],
      /--forward-port: no interface t9/,
    ],
    [["--tun", "t1", "--address", "10.1.0.1/24", "--redirect", "tcp:80"], /--redirect must be/],
    [["--tun", "t1", "--address", "10.1.0.1/24", "--nat", "snat -o t1"], /needs --to/],
    [["--tun", "t1", "--address", "10.1.0.1/24", "--nat", "masq -o t1"], /--nat must be/],
    [["--no-offload", "--tun", "t1", "--address", "10.1.0.1/24"], /--no-offload must follow/],
    [["--tap", "t1", "--address", "10.1.0.1/24", "--no-offload"], /--no-offload applies to --tun/],
  ];
  for (const [args, want] of cases) {
    const r = await up(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.err.length, 1, args.join(" "));
    assert.match(r.err[0]!, want);
    assert.deepEqual(r.out, []);
  }
});

Deno.test("up --help documents every gateway flag", async () => {
  const r = await up(["--help", "--tun", "t1"]);
  assert.equal(r.code, 0);
  assert.equal(r.out.join("\n"), UP_HELP);
  for (const flag of Object.keys(GATEWAY_FLAGS)) {
    assert.match(UP_HELP, new RegExp(`--${flag}\\b`), `--${flag} is documented`);
  }
  assert.match(UP_HELP, /^ {2}--tun NAME /m);
  assert.match(UP_HELP, /^ {2}--npt INSIDE=OUTSIDE /m);
  assert.match(UP_HELP, /^ {2}--masquerade IF /m);
  assert.match(UP_HELP, /^ {2}--snat IF=ADDR\[-ADDR\] /m);
  assert.match(UP_HELP, /^ {2}--forward-port PROTO:PORT=ADDR\[:PORT\]\[@IF\]$/m);
  assert.match(UP_HELP, /^ {2}--redirect PROTO:PORT=PORT\[@IF\]$/m);
  assert.match(UP_HELP, /--masquerade tun2 .*\n.*--forward-port tcp:8080=10\.1\.0\.2:80@tun2/);
});

Deno.test("parseGatewayArgs: gateway flags apply wherever they stand, interface flags to the last interface", () => {
  const a = parseGatewayArgs([
    "--tun",
    "t1",
    "--address",
    "10.1.0.1/24",
    "--serve",
    "echo",
    "--netns",
    "a",
    "--tap",
    "t2",
    "--address",
    "10.2.0.1/24",
    "--mtu",
    "1400",
    "--npt",
    "fd01::/48=2001:db8:1::/48",
    "--mss-clamp",
  ]);
  assert.deepEqual(a.serve, ["echo"]);
  assert.equal(a.mssClamp, true);
  assert.equal(a.interfaces[0]!.netns, "a");
  assert.equal(a.interfaces[0]!.mtu, undefined);
  assert.equal(a.interfaces[1]!.mtu, 1400);
  assert.deepEqual(a.interfaces[1]!.npt, { inside: "fd01::/48", outside: "2001:db8:1::/48" });
});

Deno.test("parseGatewayArgs: TUN interfaces have offloads unless --no-offload follows them", () => {
  const a = parseGatewayArgs([
    "--tun",
    "t1",
    "--address",
    "10.1.0.1/24",
    "--tun",
    "t2",
    "--no-offload",
    "--address",
    "10.2.0.1/24",
    "--tap",
    "t3",
    "--address",
    "10.3.0.1/24",
    "--lan",
    "l0",
    "--address",
    "10.4.0.1/24",
  ]);
  assert.deepEqual(a.interfaces.map((i) => [i.name, i.offload]), [
    ["t1", true],
    ["t2", false],
    ["t3", false],
    ["l0", false],
  ]);
});

Deno.test("GATEWAY_FLAGS: a flag's finish() runs once after every flag is parsed (how NAT flags check interfaces)", () => {
  const flags = GATEWAY_FLAGS as Record<string, (typeof GATEWAY_FLAGS)[string]>;
  const seen: string[][] = [];
  const saved = flags["forward"]!;
  flags["forward"] = {
    ...saved,
    finish(args) {
      seen.push(args.interfaces.map((i) => i.name));
    },
  };
  try {
    parseGatewayArgs(["--forward", "--tun", "a", "--address", "10.1.0.1/24", "--forward"]);
  } finally {
    flags["forward"] = saved;
  }
  assert.deepEqual(seen, [["a"]]);
});

Deno.test("parseGatewayArgs: the NAT flags become nat rules in order, interfaces checked after parsing", () => {
  const a = parseGatewayArgs([
    "--masquerade",
    "t2",
    "--snat",
    "t3=10.3.0.1-10.3.0.4",
    "--forward-port",
    "tcp:8080=10.1.0.5:80@t2",
    "--forward-port",
    "udp:53=10.1.0.6",
    "--redirect",
    "tcp:80=8080@t1",
    "--nat",
    "dnat -i t3 -p udp --dport 5353 --to 10.1.0.7:53",
    "--tun",
    "t1",
    "--address",
    "10.1.0.1/24",
    "--tun",
    "t2",
    "--address",
    "10.2.0.1/24",
    "--lan",
    "t3",
    "--address",
    "10.3.0.1/24",
  ]);
  assert.deepEqual(a.nat.map(formatNatRule), [
    "masquerade -o t2",
    "snat -o t3 --to 10.3.0.1-10.3.0.4",
    "dnat -i t2 --dst-type local -p tcp --dport 8080 --to 10.1.0.5:80",
    "dnat --dst-type local -p udp --dport 53 --to 10.1.0.6",
    "redirect -i t1 -p tcp --dport 80 --to 8080",
    "dnat -i t3 -p udp --dport 5353 --to 10.1.0.7:53",
  ]);
});

Deno.test("up gateway NAT: lan0 masqueraded behind lan1; TCP, UDP and ping out, a forwarded port in, conntrack on the status page", async () => {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const r = await up(
    [
      "--forward",
      "--masquerade",
      "lan1",
      "--forward-port",
      "tcp:8080=10.3.0.2:7@lan1",
      "--serve",
      "http",
      "--lan",
      "lan0",
      "--hosts",
      "2",
      "--hosts-serve",
      "echo",
      "--address",
      "10.3.0.1/24",
      "--lan",
      "lan1",
      "--address",
      "10.4.0.1/24",
    ],
    async (gw, hosts) => {
      const [in1, in2, out] = hosts as [Stack, Stack, Stack];
      assert.deepEqual(hosts!.map((h) => h.name), ["lan0-host1", "lan0-host2", "lan1-host1"]);
      // ping out: the outside host answers the gateway's address.
      assert.equal((await in1.ping("10.4.0.2")).from, "10.4.0.2");
      // TCP out: the outside server sees the gateway's outside address.
      const l = out.listen({ port: 9000 });
      const [c, s] = await Promise.all([
        in1.connect({ hostname: "10.4.0.2", port: 9000 }),
        l.accept(),
      ]);
      assert.equal(s.remoteAddr.hostname, "10.4.0.1");
      assert.equal(s.remoteAddr.port, c.localAddr.port, "port preserved");
      await c.write(enc.encode("out"));
      assert.equal(await s.read(new Uint8Array(8)), 3);
      // UDP out from the same port on two inside hosts: two distinct mappings.
      const stun = out.listenDatagram({ transport: "udp", port: 3478 });
      const seen: Deno.NetAddr[] = [];
      for (const h of [in1, in2]) {
        const u = h.listenDatagram({ transport: "udp", port: 5000 });
        await u.send(enc.encode("who"), { transport: "udp", hostname: "10.4.0.2", port: 3478 });
        seen.push((await stun.receive())[1] as Deno.NetAddr);
        u.close();
      }
      stun.close();
      assert.deepEqual(seen.map((x) => x.hostname), ["10.4.0.1", "10.4.0.1"]);
      assert.equal(seen[0]!.port, 5000, "the first keeps its port");
      assert.notEqual(seen[1]!.port, 5000, "the second gets another");
      assert.equal(seen[1]!.port % 2, 0, "parity kept");
      // The forwarded port: lan1 reaches lan0-host1's echo at the gateway's 8080.
      const f = await out.connect({ hostname: "10.4.0.1", port: 8080 });
      await f.write(enc.encode("fwd"));
      const buf = new Uint8Array(3);
      let n = 0;
      while (n < 3) n += (await f.read(buf.subarray(n)))!;
      assert.equal(dec.decode(buf), "fwd");
      // The status page lists the translated flows (conntrack -L).
      const page = await out.connect({ hostname: "10.4.0.1", port: 80 });
      await page.write(enc.encode("GET / HTTP/1.0\r\nAccept: text/plain\r\n\r\n"));
      let text = "";
      const chunk = new Uint8Array(65536);
      for (let k = await page.read(chunk); k !== null; k = await page.read(chunk)) {
        text += dec.decode(chunk.subarray(0, k), { stream: true });
      }
      page.close();
      const rows = text.split("== Tracked connections\n")[1]?.split("\n== ")[0] ?? "";
      assert.match(
        rows,
        /^tcp +6 \d+ ESTABLISHED src=10\.3\.0\.2 dst=10\.4\.0\.2 sport=\d+ dport=9000 src=10\.4\.0\.2 dst=10\.4\.0\.1 sport=9000 dport=\d+ \[ASSURED\]$/m,
      );
      assert.match(
        rows,
        /^tcp +6 \d+ ESTABLISHED src=10\.4\.0\.2 dst=10\.4\.0\.1 sport=\d+ dport=8080 src=10\.3\.0\.2 dst=10\.4\.0\.2 sport=7 dport=\d+ \[ASSURED\]$/m,
      );
      assert.ok(gw.conntrack().length >= 3);
      f.close();
      c.close();
      s.close();
      l.close();
    },
    { services: SERVICES },
  );
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.ok(r.out.some((l) => /nat:\n(.*\n)*? +flow\.snat +[1-9]/.test(l)), r.out.join("\n"));
});
