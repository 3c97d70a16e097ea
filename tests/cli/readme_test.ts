/**
 * The README's API example, run as written (its `./mod.ts` import pointed
 * at this checkout): it must print what its comments say.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

Deno.test("the README's short example runs and prints what it says", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const section = readme.slice(readme.indexOf("## A short example"));
  const code = /```ts ignore\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code !== undefined, "the example's code block");
  assert.match(code, /^import \{[^}]*\} from "\.\/mod\.ts";$/m, "a path a user can use");
  const dir = await Deno.makeTempDir({ prefix: `readme-${Deno.pid}-` });
  try {
    const file = `${dir}/example.ts`;
    await Deno.writeTextFile(
      file,
      code.replace('"./mod.ts"', JSON.stringify(new URL("mod.ts", ROOT).href)),
    );
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", file], // no permissions, as the README says
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const out = new TextDecoder().decode(r.stdout);
    assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    assert.match(out, /^ping 10\.0\.0\.2: 15 ms$/m); // 5 ms each way, ARP first: ms, as ping shows
    assert.match(out, /^tcp echo: hello$/m);
    assert.match(out, /^State\s+Recv-Q\s+Send-Q\s+Local\S*( Address:Port)?\s+Peer/m);
    assert.match(out, /ESTAB\S*\s+\d+\s+\d+\s+10\.0\.0\.1:\d+\s+10\.0\.0\.2:7/);
    assert.match(out, /^tcp:$/m, "formatCounters groups by plugin");
    assert.match(out, /^tcp:\n {2}\S+ +\d+$/m);
    assert.match(out, /^eth0 -> ethernet -\[ethertype 0x0800\]-> ipv4 -\[ip\.protocol 6\]-> tcp$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the stack manifest example of plugins/README.md loads, paths relative to its folder", async () => {
  const readme = await Deno.readTextFile(new URL("plugins/README.md", ROOT));
  const json = /```json\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(json !== undefined);
  // Saved in plugins/ as the README says (a unique name, removed afterwards).
  const file = new URL(`plugins/.lab-${Deno.pid}.json`, ROOT).pathname;
  await Deno.writeTextFile(file, json);
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", new URL("cli.ts", ROOT).pathname, "graph", "--manifest", file],
      cwd: "/", // relative paths follow the manifest, not the working directory
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const out = new TextDecoder().decode(r.stdout);
    assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    assert.match(out, /-\[ethertype 0x88b5\]-> hello/);
    assert.match(out, /^hook prerouting: block_source$/m);
  } finally {
    await Deno.remove(file);
  }
});
