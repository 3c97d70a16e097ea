import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { BUILTIN_PLUGINS, loadStack, type Stack } from "../mod.ts";
import { PluginManifestError } from "./errors.ts";
import {
  PluginLoadError,
  type PluginLoadReason,
  readManifestFile,
  resolveManifest,
} from "./loader.ts";
import type { FixtureCountService } from "../tests/fixtures/plugins/counter_plugin.ts";
import { kernelOf } from "./stack.ts";

const FIXTURES = new URL("../tests/fixtures/plugins/", import.meta.url);
const COUNTER_URL = new URL("counter_plugin.ts", FIXTURES);

/** `path` relative to the working directory, starting with `./` or `../`. */
function fromCwd(path: string): string {
  const r = relative(Deno.cwd(), path);
  return r.startsWith(".") ? r : `./${r}`;
}

/** A plugin module with no imports, for manifests written to temporary folders. */
function pluginSource(name: string): string {
  return `export default {
  manifest: {
    name: ${JSON.stringify(name)}, version: "1.0.0", api: "^1.0.0",
    description: "temporary test plugin", layer: "service", binds: [], counters: [],
    options: { size: { default: 1, description: "a number" } },
  },
  setup(ctx) { return { services: {} , ready() { globalThis[${
    JSON.stringify(`__${name}`)
  }] = ctx.options.size; } }; },
};
`;
}

async function withTempDir(prefix: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function assertManifestError(p: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  const err = await p.then(() => null, (e: unknown) => e);
  assert.ok(err instanceof PluginManifestError, `expected PluginManifestError, got ${err}`);
  assert.equal(err.code, "EPLUGINMANIFEST");
  for (const re of patterns) assert.match(err.message, re);
}

async function assertLoadError(
  p: Promise<unknown>,
  reason: PluginLoadReason,
  ...patterns: RegExp[]
): Promise<void> {
  const err = await p.then(() => null, (e: unknown) => e);
  assert.ok(err instanceof PluginLoadError, `expected PluginLoadError, got ${err}`);
  assert.equal(err.code, "EPLUGINLOAD");
  assert.equal(err.reason, reason, err.message);
  assert.ok(!err.message.includes("\n"), `one line: ${err.message}`);
  for (const re of patterns) assert.match(err.message, re);
}

function using(stack: Stack) {
  return { stack, [Symbol.dispose]: () => stack.close() };
}

Deno.test("loadStack() loads built-in plugins by name", async () => {
  using env = using(await loadStack({ plugins: ["ethernet", "arp", "ipv4", "icmp"] }));
  assert.deepEqual(env.stack.pluginNames, ["ethernet", "arp", "ipv4", "icmp"]);
});

Deno.test("loadStack() passes options to built-ins and names the stack", async () => {
  const m = { name: "edge", plugins: [{ use: "ethernet", options: { vlan: 5 } }, "rawip"] };
  using env = using(await loadStack(m));
  assert.equal(env.stack.name, "edge");
  assert.deepEqual(env.stack.pluginNames, ["ethernet", "rawip"]);
});

Deno.test("loadStack() loads a plugin by a path relative to the working directory", async () => {
  const path = fromCwd(fileURLToPath(COUNTER_URL));
  using env = using(
    await loadStack({ plugins: ["ethernet", { use: path, options: { label: "rel" } }] }),
  );
  assert.deepEqual(env.stack.pluginNames, ["ethernet", "fixture-counter"]);
  assert.equal(env.stack.service<FixtureCountService>("fixture.count")!.label, "rel");
});

Deno.test("loadStack() loads a plugin by file:// URL and it handles traffic", async () => {
  using env = using(await loadStack({ plugins: ["ethernet", COUNTER_URL.href] }));
  const stack = env.stack;
  const iface = stack.addInterface({
    driver: {
      linkType: 1,
      mtu: 1500,
      mac: new Uint8Array([2, 0, 0, 0, 0, 1]),
      attach() {},
      transmit: (pkt) => pkt.release(),
      close() {},
    },
  });
  const frame = new Uint8Array(60);
  frame.fill(0xff, 0, 6); // broadcast
  frame.set([0x88, 0xb5], 12);
  kernelOf(stack).inject(iface.index, frame);
  kernelOf(stack).inject(iface.index, frame);
  assert.equal(stack.service<FixtureCountService>("fixture.count")!.count, 2);
  assert.equal(stack.counters.value("fixture-counter.rx.frames"), 2);
  assert.ok(stack.graph().includes("eth0 -> ethernet -[ethertype 0x88b5]-> fixture-counter"));
});

Deno.test("loadStack() accepts a module exporting `plugin` instead of `default`", async () => {
  const url = new URL("named_plugin.ts", FIXTURES);
  using env = using(await loadStack({ plugins: [url.href] }, { base: "file:///nowhere/" }));
  assert.deepEqual(env.stack.pluginNames, ["fixture-named"]);
});

Deno.test("loadStack() resolves relative plugin paths against an explicit base", async () => {
  using env = using(
    await loadStack({ plugins: ["./named_plugin.ts"] }, { base: FIXTURES }),
  );
  assert.deepEqual(env.stack.pluginNames, ["fixture-named"]);
});

Deno.test("loadStack() reads a JSON manifest; plugin paths are relative to the file", async () => {
  await withTempDir("netstack-loader-", async (dir) => {
    await Deno.mkdir(`${dir}/plugins`);
    await Deno.writeTextFile(`${dir}/plugins/local.ts`, pluginSource("local-json"));
    const manifest = {
      name: "from-json",
      plugins: ["ethernet", { use: "./plugins/local.ts", options: { size: 9 } }],
    };
    await Deno.writeTextFile(`${dir}/stack.json`, JSON.stringify(manifest));
    for (const path of [`${dir}/stack.json`, fromCwd(`${dir}/stack.json`)]) {
      using env = using(await loadStack(path));
      assert.equal(env.stack.name, "from-json");
      assert.deepEqual(env.stack.pluginNames, ["ethernet", "local-json"]);
      assert.equal((globalThis as Record<string, unknown>)["__local-json"], 9);
    }
  });
});

Deno.test("loadStack() reads a JSON manifest from a folder whose name needs URL escaping", async () => {
  await withTempDir("netstack loader #50% ", async (dir) => {
    await Deno.writeTextFile(`${dir}/odd.ts`, pluginSource("odd-folder"));
    await Deno.writeTextFile(`${dir}/stack.json`, JSON.stringify({ plugins: ["./odd.ts"] }));
    using env = using(await loadStack(`${dir}/stack.json`));
    assert.deepEqual(env.stack.pluginNames, ["odd-folder"]);
  });
});

Deno.test("loadStack() rejects an unknown plugin name, listing the built-ins", async () => {
  await assertLoadError(
    loadStack({ plugins: ["ethernet", "quic"] }),
    "unknown_name",
    /^Cannot load plugin "quic": /,
    /no built-in plugin has this name/,
    new RegExp(`built-ins: ${Object.keys(BUILTIN_PLUGINS).join(", ")}`),
  );
});

Deno.test("loadStack() does not take Object.prototype members for built-ins", async () => {
  for (const name of ["constructor", "toString", "__proto__"]) {
    await assertLoadError(
      loadStack({ plugins: [name] }),
      "unknown_name",
      new RegExp(`plugin "${name}"`),
      /no built-in plugin has this name/,
    );
  }
});

Deno.test("loadStack() rejects a module without a plugin export, listing its exports", async () => {
  const url = new URL("not_a_plugin.ts", FIXTURES).href;
  await assertLoadError(
    loadStack({ plugins: [url] }),
    "no_export",
    /not_a_plugin\.ts/,
    /exports no plugin as default or "plugin" \(its exports: default, notAPlugin\)/,
  );
});

Deno.test("loadStack() says a plugin file is not found, with its full path", async () => {
  await assertLoadError(
    loadStack({ plugins: ["./no_such_plugin.ts"] }, { base: FIXTURES }),
    "not_found",
    /^Cannot load plugin "\.\/no_such_plugin\.ts": no such file \/.*\/fixtures\/plugins\/no_such_plugin\.ts$/,
  );
});

Deno.test("loadStack() says when importing a plugin throws, with the thrown message", async () => {
  await withTempDir("netstack-loader-", async (dir) => {
    await Deno.writeTextFile(`${dir}/boom.ts`, `throw new Error("boom at import");\n`);
    await Deno.writeTextFile(`${dir}/syntax.ts`, `export default {;\n`);
    await assertLoadError(
      loadStack({ plugins: ["./boom.ts"] }, { base: `file://${dir}/` }),
      "import_failed",
      /^Cannot load plugin "\.\/boom\.ts": importing file:\/\/.*boom\.ts threw: boom at import$/,
    );
    await assertLoadError(
      loadStack({ plugins: ["./syntax.ts"] }, { base: `file://${dir}/` }),
      "import_failed",
      /^Cannot load plugin "\.\/syntax\.ts": importing .* threw: /,
    );
  });
});

Deno.test("loadStack() names a plugin whose manifest is invalid", async () => {
  await withTempDir("netstack-loader-", async (dir) => {
    await Deno.writeTextFile(
      `${dir}/bad.ts`,
      `export const plugin = { manifest: { name: "Bad Name" }, setup() { return {}; } };\n`,
    );
    await assertLoadError(
      loadStack({ plugins: ["./bad.ts"] }, { base: `file://${dir}/` }),
      "bad_manifest",
      /^Cannot load plugin "\.\/bad\.ts": bad manifest: Invalid manifest/,
    );
  });
});

Deno.test("loadStack() hints ./ for a bare file name that is not a built-in", async () => {
  await assertLoadError(
    loadStack({ plugins: ["plugins/x.ts"] }),
    "unknown_name",
    /\(for a file, write \.\/plugins\/x\.ts\)/,
  );
});

Deno.test("loadStack() rejects a JSON file that does not parse", async () => {
  await withTempDir("netstack-loader-", async (dir) => {
    await Deno.writeTextFile(`${dir}/bad.json`, '{ "plugins": ["ethernet", ] }');
    await assertManifestError(loadStack(`${dir}/bad.json`), /bad\.json is not valid JSON/);
  });
});

Deno.test("loadStack() rejects a manifest without a plugins array or with bad entries", async () => {
  await assertManifestError(
    loadStack({ plugins: "ethernet" } as never),
    /needs a plugins array/,
  );
  await assertManifestError(
    loadStack({ plugins: [42] } as never),
    /each plugin entry is a string or \{ use, options \}/,
  );
  await withTempDir("netstack-loader-", async (dir) => {
    await Deno.writeTextFile(`${dir}/null.json`, "null");
    await assertManifestError(loadStack(`${dir}/null.json`), /needs a plugins array/);
  });
});

Deno.test("loadStack() reports a missing manifest file as NotFound", async () => {
  await assert.rejects(loadStack("/nonexistent/netstack/stack.json"), Deno.errors.NotFound);
});

Deno.test("loadStack() boot errors still name the plugin (bad option from a manifest)", async () => {
  await assert.rejects(
    loadStack({ plugins: [{ use: "ethernet", options: { vlan: "ten" } }] }),
    /Cannot set up plugin "ethernet": option "vlan" must be a number/,
  );
});

Deno.test("resolveManifest() and readManifestFile() are usable on their own", async () => {
  const entries = await resolveManifest(
    { plugins: ["ipv4", { use: "./named_plugin.ts", options: { a: 1 } }] },
    { builtins: BUILTIN_PLUGINS, base: FIXTURES },
  );
  assert.equal(entries[0]!.plugin, BUILTIN_PLUGINS["ipv4"]);
  assert.equal(entries[1]!.plugin.manifest.name, "fixture-named");
  assert.deepEqual(entries[1]!.options, { a: 1 });
  await withTempDir("netstack-loader-", async (dir) => {
    await Deno.writeTextFile(`${dir}/s.json`, '{"plugins":[]}');
    const { manifest, base } = await readManifestFile(`${dir}/s.json`);
    assert.deepEqual(manifest, { plugins: [] });
    assert.equal(new URL("./x.ts", base).href, new URL(`file://${dir}/x.ts`).href);
  });
});
