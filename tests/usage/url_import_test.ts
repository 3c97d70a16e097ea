/**
 * A user who imports `mod.ts` by URL (README, "A short example"): the
 * checkout is served over HTTP on 127.0.0.1 as raw.githubusercontent.com
 * serves a repository (every file `text/plain`), and a script importing
 * `http://127.0.0.1:PORT/mod.ts` runs the README's example, unchanged but for
 * that URL, under `deno check` and `deno run` with no flag but
 * `--allow-import` for that host (raw.githubusercontent.com needs none: it is
 * on Deno's default list). Every module fetched must be a `.ts` file that
 * exists: a bare or `jsr:` specifier, or an import of a file not in the
 * repository, fails here before it fails a user. The type check also covers
 * the TUN driver's module, which a program using TUN imports.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

/** Serves ROOT's files as text/plain; records each path asked for and each 404. */
function serveCheckout(): {
  server: Deno.HttpServer<Deno.NetAddr>;
  asked: Set<string>;
  missing: string[];
} {
  const asked = new Set<string>();
  const missing: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    asked.add(path);
    try {
      const body = await Deno.readFile(new URL(`.${path}`, ROOT));
      return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });
    } catch {
      missing.push(path);
      return new Response("404: Not Found", { status: 404 });
    }
  });
  return { server, asked, missing };
}

/** Runs deno with `args` in `cwd`, at most `ms` milliseconds. */
async function deno(args: string[], cwd: string, ms: number) {
  const r = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(ms),
  }).output();
  const d = new TextDecoder();
  return { code: r.code, stdout: d.decode(r.stdout), stderr: d.decode(r.stderr) };
}

/** Where Deno caches remote modules and their type-check results. */
async function denoCaches(): Promise<string[]> {
  const r = await deno(["info", "--json"], Deno.cwd(), 30_000);
  const info = JSON.parse(r.stdout) as { modulesCache: string; typescriptCache: string };
  return [info.modulesCache, info.typescriptCache];
}

Deno.test("mod.ts by URL over HTTP: the README example under deno check and deno run", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const section = readme.slice(readme.indexOf("## A short example"));
  const code = /```ts ignore\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code !== undefined, "the example's code block");
  const { server, asked, missing } = serveCheckout();
  const host = `127.0.0.1:${server.addr.port}`;
  const dir = await Deno.makeTempDir({ prefix: "netstack_url_" });
  try {
    const url = (p: string) => `http://${host}/${p}`;
    assert.ok(code.includes('from "./mod.ts"'));
    await Deno.writeTextFile(`${dir}/example.ts`, code.replace('"./mod.ts"', `"${url("mod.ts")}"`));
    await Deno.writeTextFile(
      `${dir}/tun.ts`,
      `import { openTun, RealTimeRunner } from "${url("drivers/tun/mod.ts")}";\n` +
        `export const parts = [openTun, RealTimeRunner];\n`,
    );
    const allow = `--allow-import=${host}`;
    const check = await deno(["check", "--quiet", allow, "example.ts", "tun.ts"], dir, 240_000);
    assert.equal(check.code, 0, `deno check:\n${check.stderr.slice(0, 4000)}`);
    const run = await deno(["run", "--no-prompt", allow, "example.ts"], dir, 120_000);
    assert.equal(run.code, 0, `deno run:\n${run.stderr.slice(0, 4000)}`);
    assert.match(run.stdout, /^ping 10\.0\.0\.2: 15 ms$/m);
    assert.match(run.stdout, /^tcp echo: hello$/m);
    assert.match(
      run.stdout,
      /^eth0 -> ethernet -\[ethertype 0x0800\]-> ipv4 -\[ip\.protocol 6\]-> tcp$/m,
    );
    assert.deepEqual(missing, [], "every module imported exists in the repository");
    assert.ok(asked.has("/mod.ts") && asked.has("/drivers/tun/mod.ts"));
    const notTs = [...asked].filter((p) => !p.endsWith(".ts"));
    assert.deepEqual(notTs, [], "only .ts modules are fetched (relative imports, no jsr:)");
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
    // The modules fetched from this port, cached by Deno, are of no use again.
    for (const cache of await denoCaches()) {
      await Deno.remove(`${cache}/http/127.0.0.1_PORT${server.addr.port}`, { recursive: true })
        .catch(() => {});
    }
  }
});
