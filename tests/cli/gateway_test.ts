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
