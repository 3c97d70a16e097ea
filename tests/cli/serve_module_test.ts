/**
 * `up --serve PATH|URL`: a service of one's own, a module exporting a plugin
 * of layer "service" (what `defineService` returns), runs as the built-in
 * ones do, `PATH:PORT` moves it, and each mistake is one line: a missing
 * file or a plugin that is not a service exit 2 (usage), a module that fails
 * to import exit 1, both before anything starts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { runUpWhileReady } from "./_up.ts";
import type { Stack } from "../../mod.ts";
import { SERVICES } from "../../plugins/services/mod.ts";
import { parseServeWord, withServiceModules } from "../../cli/_serve.ts";

const REVERSE = new URL("../../plugins/reverse_lines/mod.ts", import.meta.url).pathname;

/** Sends `text` to `hostname`:`port` (default the stack's own address) and reads the answer to the end. */
async function exchange(
  stack: Stack,
  port: number,
  text: string,
  hostname = "10.0.0.2",
): Promise<string> {
  const conn = await stack.connect({ hostname, port });
  await conn.write(new TextEncoder().encode(text));
  await conn.closeWrite();
  const reply = await new Response(conn.readable).text();
  conn.close();
  return reply;
}

Deno.test("up --serve ./path/mod.ts and ./path/mod.ts:PORT run a service of one's own beside the built-ins", async () => {
  let replies: string[] = [];
  let listening: string[] = [];
  let names: readonly string[] = [];
  const r = await runUpWhileReady(
    ["--driver", "loopback", "--serve", `echo,${REVERSE},${REVERSE}:7100`],
    async (stack) => {
      listening = stack.sockets().map((s) => s.local).sort();
      names = stack.pluginNames;
      replies = [
        await exchange(stack, 7272, "abc\ndef"),
        await exchange(stack, 7100, "xyz\r\n"),
        await exchange(stack, 7, "echo"),
      ];
    },
    { services: SERVICES },
  );
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.deepEqual(replies, ["cba\nfed", "zyx\r\n", "echo"]);
  assert.ok(names.includes("reverse_lines") && names.includes("reverse_lines-7100"), names.join());
  assert.deepEqual(listening, ["*:7", "*:7100", "*:7272"]);
  // The counters printed at the end name the service as its manifest does.
  assert.ok(r.out.some((l) => /reverse_lines/.test(l)), r.out.join("\n"));
});

Deno.test("up --serve with a module: each mistake is one line, before anything starts", async () => {
  const notService = new URL("../../plugins/block_source/mod.ts", import.meta.url).pathname;
  const broken = await Deno.makeTempFile({ prefix: "svchost-", suffix: ".ts" });
  const noPlugin = await Deno.makeTempFile({ prefix: "svchost-", suffix: ".ts" });
  await Deno.writeTextFile(broken, "throw new Error('broken on purpose');\n");
  await Deno.writeTextFile(noPlugin, "export const x = 1;\n");
  try {
    const cases: [string, number, RegExp][] = [
      ["./no/such/service.ts", 2, /--serve \.\/no\/such\/service\.ts: no such file/],
      [`${REVERSE}:0`, 2, /the port "0" is not a port/],
      [`${REVERSE}:x`, 2, /the port "x" is not a port/],
      [notService, 2, /its plugin block_source is of layer "middlebox", not "service"/],
      [broken, 1, /Cannot load plugin .*broken on purpose/],
      [noPlugin, 1, /exports no plugin as default or "plugin" \(its exports: x\)/],
      [`${REVERSE},${REVERSE}`, 0, /./], // the same module twice is one service, as a name is
    ];
    for (const [serve, code, want] of cases) {
      const r = await runUpWhileReady(["--driver", "loopback", "--serve", serve], undefined, {
        services: SERVICES,
      });
      assert.equal(r.code, code, `${serve}: ${r.err.join("\n")}`);
      if (code === 0) continue;
      assert.equal(r.err.length, 1, `${serve}: ${r.err.join("\n")}`);
      assert.match(r.err[0]!, want, serve);
      assert.match(r.err[0]!, /^cli\.ts up: /);
      assert.deepEqual(r.out, [], serve);
    }
  } finally {
    await Deno.remove(broken);
    await Deno.remove(noPlugin);
  }
});

Deno.test("parseServeWord: a module's own colons are not a port; withServiceModules keys it as written", async () => {
  assert.deepEqual(parseServeWord("./x.ts:7100"), { name: "./x.ts", port: 7100 });
  assert.deepEqual(parseServeWord("/a/b.ts"), { name: "/a/b.ts", port: undefined });
  assert.deepEqual(parseServeWord("https://h:8443/s.ts"), {
    name: "https://h:8443/s.ts",
    port: undefined,
  });
  assert.deepEqual(parseServeWord("https://h:8443/s.ts:9"), {
    name: "https://h:8443/s.ts",
    port: 9,
  });
  assert.deepEqual(parseServeWord("file:///s.ts"), { name: "file:///s.ts", port: undefined });
  const registry = await withServiceModules(["echo", `${REVERSE}:7100`], SERVICES);
  assert.deepEqual(Object.keys(registry), [...Object.keys(SERVICES), REVERSE]);
  assert.equal(
    registry[REVERSE]!.description,
    "Example: sends back every line reversed, TCP and UDP port 7272",
  );
  assert.equal(registry.echo, SERVICES.echo);
});

Deno.test("the README's service of one's own runs under up --serve as written", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("### A service of your own"));
  const code = /```ts ignore\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code !== undefined, "the section's code block");
  const file = await Deno.makeTempFile({ prefix: "svchost-", suffix: ".ts" });
  try {
    const mod = new URL("../../mod.ts", import.meta.url).href;
    await Deno.writeTextFile(file, code.replace(/"https:[^"]*mod\.ts"/, JSON.stringify(mod)));
    let reply = "";
    const r = await runUpWhileReady(
      ["--driver", "loopback", "--serve", `${file}:7300`],
      async (stack) => {
        reply = await exchange(stack, 7300, "Hello, wörld");
      },
      { services: SERVICES },
    );
    assert.equal(r.code, 0, r.err.join("\n"));
    assert.equal(reply, "HELLO, WöRLD");
    assert.match(r.out.join("\n"), /^upper-7300:\n {2}bytes +13$/m);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("up gateway: --serve and --hosts-serve take a module path too", async () => {
  const got: string[] = [];
  const r = await runUpWhileReady(
    [
      "--lan",
      "lan0",
      "--hosts",
      "1",
      "--hosts-serve",
      `${REVERSE}:7100`,
      "--serve",
      REVERSE,
      "--address",
      "10.3.0.1/24",
    ],
    async (stack) => {
      got.push(await exchange(stack, 7272, "gw\n", "10.3.0.1")); // the gateway's own
      got.push(await exchange(stack, 7100, "host\n", "10.3.0.2")); // the --lan host's
    },
    { services: SERVICES },
  );
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.deepEqual(got, ["wg\n", "tsoh\n"]);
});
