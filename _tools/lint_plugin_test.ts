import assert from "node:assert/strict";
import plugin, { repoPath } from "./lint_plugin.ts";

/** Runs the plugin on `source` as if it were the repo file `path`; returns `rule@line` strings. */
function lint(path: string, source: string): string[] {
  const diagnostics = Deno.lint.runPlugin(plugin, path, source);
  return diagnostics.map((d) => {
    const line = source.slice(0, d.range[0]).split("\n").length;
    return `${d.id.replace(/^netstack\//, "")}@${line}`;
  });
}

// ---- no-wall-clock ---------------------------------------------------------

const WALL_CLOCK_READS = [
  "const t = Date.now();",
  "const t = new Date();",
  "const s = Date();",
  "const t = performance.now();",
  "const t = globalThis.performance.now();",
  "const t = globalThis.Date.now();",
  'const t = performance["now"]();',
  "const t = Temporal.Now.instant();",
  "setTimeout(() => {}, 10);",
  "const id = setInterval(tick, 10);",
  "globalThis.setTimeout(tick, 1);",
  "queue(setTimeout);",
  "const x = Math.random();",
  "crypto.getRandomValues(new Uint8Array(4));",
  "globalThis.crypto.getRandomValues(buf);",
  "const id = crypto.randomUUID();",
  "const f = Date.now;",
  "const { now } = performance;",
  "const { setTimeout: st } = globalThis;",
  "const { random } = Math;",
];

Deno.test("no-wall-clock reports each wall-clock and entropy read in stack/", () => {
  for (const src of WALL_CLOCK_READS) {
    assert.deepEqual(lint("stack/dispatcher.ts", src), ["no-wall-clock@1"], src);
  }
});

Deno.test("no-wall-clock reports in protocols, plugins, mod.ts and absolute paths under the root", () => {
  const src = "export const t = Date.now();";
  for (
    const path of [
      "stack/protocols/tcp/timers.ts",
      "plugins/nat44/mod.ts",
      "mod.ts",
      "stack/clock_helpers.ts",
      repoPath(new URL("../stack/x.ts", import.meta.url).pathname),
    ]
  ) {
    assert.deepEqual(lint(path, src), ["no-wall-clock@1"], path);
  }
});

Deno.test("no-wall-clock allows exempt files", () => {
  const src = "const t = performance.now(); setTimeout(f, 1); Math.random();";
  for (
    const path of [
      "stack/clock.ts",
      "stack/rng.ts",
      "cli.ts",
      "drivers/tun/mod.ts",
      "drivers/pcapfile/_reader.ts",
      "tests/tcp/handshake_test.ts",
      "tests/_harness.ts",
      "bench/checksum_bench.ts",
      "_tools/count_tests.ts",
      "stack/wire/udp_test.ts",
      "stack/dispatcher_bench.ts",
      new URL("../cli.ts", import.meta.url).pathname,
    ]
  ) {
    assert.deepEqual(lint(path, src), [], path);
  }
});

Deno.test("no-wall-clock ignores lookalikes that read no clock", () => {
  const src = [
    "const a = clock.now();",
    "const b = new Date(0).toISOString();",
    "const c = new Date(ts / 1000);",
    "const d = rng.random();",
    "const e = { setTimeout: 1, now: 2 };",
    "const f = obj.setTimeout;",
    "class K { setTimeout() {} static now() { return 0; } }",
    "interface I { setInterval(): void }",
    "type T = ReturnType<typeof setTimeout>;",
    "const g = Date.UTC(2020, 0, 1);",
    "const h = this.performance.now();",
    "// Date.now() in a comment",
    'const s = "Math.random()";',
  ].join("\n");
  assert.deepEqual(lint("stack/dispatcher.ts", src), []);
});

Deno.test("no-wall-clock reports every occurrence with its line", () => {
  const src = "const a = 1;\nconst t = Date.now();\nconst r = Math.random();\n";
  assert.deepEqual(lint("stack/dispatcher.ts", src), ["no-wall-clock@2", "no-wall-clock@3"]);
});

// ---- no-copy-slice ---------------------------------------------------------

Deno.test("no-copy-slice reports .slice( in stack/wire and stack/protocols", () => {
  const src = "export function f(b: Uint8Array) {\n  return b.slice(4);\n}\n";
  for (
    const path of ["stack/wire/udp.ts", "stack/protocols/tcp/rcv.ts", "stack/protocols/mod.ts"]
  ) {
    assert.deepEqual(lint(path, src), ["no-copy-slice@2"], path);
  }
});

Deno.test("no-copy-slice reports optional, computed and chained slices", () => {
  const src = [
    "const a = b?.slice(1);",
    'const c = b["slice"](1);',
    "const d = b.subarray(2).slice(1);",
    "const e = b!.slice();",
  ].join("\n");
  assert.deepEqual(lint("stack/wire/ipv4.ts", src), [
    "no-copy-slice@1",
    "no-copy-slice@2",
    "no-copy-slice@3",
    "no-copy-slice@4",
  ]);
});

Deno.test("no-copy-slice accepts a // copy: marker on the line", () => {
  const src = "const kept = pkt.payload.slice(); // copy: retained past receive()\n";
  assert.deepEqual(lint("stack/protocols/ipv4/fragments.ts", src), []);
});

Deno.test("no-copy-slice accepts a // copy: marker alone on the line above", () => {
  const src = "  // copy: retained past receive()\n  const kept = pkt.payload.slice();\n";
  assert.deepEqual(lint("stack/protocols/ipv4/fragments.ts", src), []);
});

Deno.test("no-copy-slice accepts a // copy: marker where a multi-line call ends", () => {
  const src = "const kept = pkt.payload.slice(\n  off,\n  end,\n); // copy: reassembly\n";
  assert.deepEqual(lint("stack/protocols/ipv4/fragments.ts", src), []);
});

Deno.test("no-copy-slice finds the right line after non-ASCII text", () => {
  const src =
    "// SYN → RST ✓ 𝒳\nconst k = p.slice(); // copy: kept → queue\nconst j = p.slice();\n";
  assert.deepEqual(lint("stack/wire/tcp.ts", src), ["no-copy-slice@3"]);
});

Deno.test("no-copy-slice rejects markers that are elsewhere or not // copy:", () => {
  const cases = [
    "const k = p.slice(); // copies the payload", // wrong words
    "const k = p.slice(); /* copy: block comment */", // not a line comment
    "x(); // copy: marker on a code line\nconst k = p.slice();", // not alone above
    "// copy: two lines above\n\nconst k = p.slice();", // not adjacent
    "const k = p.slice();\n// copy: after the line", // below
  ];
  for (const src of cases) {
    const lines = src.split("\n");
    const line = lines.findIndex((l) => l.includes(".slice(")) + 1;
    assert.deepEqual(lint("stack/wire/tcp.ts", src), [`no-copy-slice@${line}`], src);
  }
});

Deno.test("no-copy-slice ignores tests, other folders and string literals", () => {
  const src = "const k = p.slice(1);\n";
  for (
    const path of [
      "stack/wire/udp_test.ts",
      "stack/protocols/tcp/rcv_test.ts",
      "stack/counters.ts",
      "drivers/loopback/mod.ts",
      "plugins/nat44/mod.ts",
      "tests/tcp/x_test.ts",
    ]
  ) {
    assert.deepEqual(lint(path, src), [], path);
  }
  assert.deepEqual(lint("stack/wire/pretty.ts", 'const s = "abcdef".slice(2);\n'), []);
  assert.deepEqual(lint("stack/wire/pretty.ts", "const s = `abc`.slice(2);\n"), []);
});

// ---- no-cross-protocol-import ----------------------------------------------

Deno.test("no-cross-protocol-import reports imports of another protocol in every form", () => {
  const cases = [
    'import { Ipv4 } from "../ipv4/mod.ts";',
    'import type { Ipv4Route } from "../ipv4/route.ts";',
    'import * as arp from "../../protocols/arp/mod.ts";',
    'export { x } from "../udp/mod.ts";',
    'export * from "../udp/mod.ts";',
    'export type * from "../udp/types.ts";',
    'const m = await import("../icmpv4/mod.ts");',
    'type R = import("../ipv4/mod.ts").Ipv4Route;',
    'import { y } from "../ipv4/deep/inner.ts";',
  ];
  for (const src of cases) {
    assert.deepEqual(
      lint("stack/protocols/tcp/rcv.ts", src),
      ["no-cross-protocol-import@1"],
      src,
    );
  }
  // From a nested folder of the protocol too.
  assert.deepEqual(
    lint("stack/protocols/tcp/congestion/cubic.ts", 'import { a } from "../../ipv4/mod.ts";'),
    ["no-cross-protocol-import@1"],
  );
});

Deno.test("no-cross-protocol-import reports a protocol importing the registry, except in tests", () => {
  const src = 'import { builtins } from "../mod.ts";';
  assert.deepEqual(lint("stack/protocols/tcp/mod.ts", src), ["no-cross-protocol-import@1"]);
  assert.deepEqual(lint("stack/protocols/tcp/tcp_test.ts", src), []);
});

Deno.test("no-cross-protocol-import allows own files, the core, wire and outside code", () => {
  const src = [
    'import { State } from "./state.ts";',
    'import { cubic } from "./congestion/cubic.ts";',
    'import type { ProtocolPlugin } from "../../manifest.ts";',
    'import { TcpPacket } from "../../wire/tcp.ts";',
    'import { Ipv4Packet } from "../../wire/ipv4.ts";',
    'import assert from "node:assert/strict";',
    'import { x } from "jsr:@std/assert";',
    'import { y } from "../tcp/state.ts";',
    "const m = await import(name);",
  ].join("\n");
  assert.deepEqual(lint("stack/protocols/tcp/rcv.ts", src), []);
});

Deno.test("no-cross-protocol-import allows the registry and files outside protocols", () => {
  const src = 'import { tcp } from "./tcp/mod.ts";\nimport { udp } from "./udp/mod.ts";\n';
  assert.deepEqual(lint("stack/protocols/mod.ts", src), []);
  const outside = 'import { tcp } from "../stack/protocols/tcp/mod.ts";';
  assert.deepEqual(lint("tests/_harness.ts", outside), []);
  assert.deepEqual(lint("mod.ts", 'export { tcp } from "./stack/protocols/tcp/mod.ts";'), []);
});

Deno.test("repoPath() strips the repository root and a leading ./", () => {
  const root = new URL("../", import.meta.url).pathname;
  assert.equal(repoPath(`${root}stack/wire/udp.ts`), "stack/wire/udp.ts");
  assert.equal(repoPath("./cli.ts"), "cli.ts");
  assert.equal(repoPath("stack/rng.ts"), "stack/rng.ts");
});

// ---- socket-layering --------------------------------------------------------

Deno.test("socket-layering: adapters import no plugin, plugins import no adapter", () => {
  const fromAdapter = [
    'import { connect } from "../protocols/tcp/socket.ts";',
    'import type { X } from "../protocols/udp/socket.ts";',
    'export * from "../protocols/tcp/mod.ts";',
  ];
  for (const src of fromAdapter) {
    assert.deepEqual(lint("stack/sockets/tcp.ts", src), ["socket-layering@1"], src);
  }
  const fromPlugin = [
    'import { connectTcp } from "../../sockets/tcp.ts";',
    'import type { TcpConn } from "../../sockets/types.ts";',
  ];
  for (const src of fromPlugin) {
    assert.deepEqual(lint("stack/protocols/tcp/socket.ts", src), ["socket-layering@1"], src);
  }
});

Deno.test("socket-layering allows the contracts, the core and tests", () => {
  const src = [
    'import type { StreamService } from "../stream.ts";',
    'import type { UdpService } from "../services.ts";',
    'import { IpAddress } from "../wire/ip_address.ts";',
  ].join("\n");
  assert.deepEqual(lint("stack/sockets/tcp.ts", src), []);
  assert.deepEqual(
    lint("stack/protocols/tcp/socket.ts", 'import type { StreamSocket } from "../../stream.ts";'),
    [],
  );
  assert.deepEqual(
    lint("stack/sockets/tcp_test.ts", 'import { tcpPlugin } from "../protocols/tcp/mod.ts";'),
    [],
  );
});
