/**
 * mod.ts's `export *` lines: a name two of them export, or one that an
 * explicit export also gives, is dropped or shadowed silently by TypeScript
 * (pcapfile's `Direction` was hidden so by the loopback network's, session
 * 15). Every name each star source exports must reach mod.ts from that
 * source. Read with `deno doc --json`, which resolves exports as the type
 * checker does.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

interface DocSymbol {
  name: string;
  declarations: { location: { filename: string; line: number } }[];
}

/** The symbols `deno doc --json` lists for the module at `url`. */
async function exportsOf(url: URL): Promise<Map<string, string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", url.pathname],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const doc = JSON.parse(new TextDecoder().decode(out.stdout));
  const node = doc.nodes[url.href] as { symbols: DocSymbol[] } | undefined;
  assert.ok(node !== undefined, `deno doc listed no module ${url.href}`);
  const where = new Map<string, string>();
  for (const s of node.symbols) {
    const at = s.declarations.map((d) => `${d.location.filename}:${d.location.line}`);
    where.set(s.name, at.sort().join(" "));
  }
  return where;
}

/** Each name a star source of `mod` exports that does not reach `mod` from it. */
async function starExportProblems(mod: URL): Promise<string[]> {
  const text = await Deno.readTextFile(mod);
  const sources = [...text.matchAll(/^export \* from "([^"]+)";/gm)].map((m) =>
    new URL(m[1]!, mod)
  );
  const exported = await exportsOf(mod);
  const from = new Map<string, string>();
  const problems: string[] = [];
  for (const source of sources) {
    for (const [name, at] of await exportsOf(source)) {
      const other = from.get(name);
      if (other !== undefined) problems.push(`${name}: exported by ${other} and ${source.href}`);
      from.set(name, source.href);
      const got = exported.get(name);
      if (got === undefined) problems.push(`${name} (${source.href}): not exported by mod`);
      else if (got !== at) problems.push(`${name} (${source.href}): mod exports another, ${got}`);
    }
  }
  return problems;
}

Deno.test("mod.ts: every name of every export * source reaches mod.ts from that source", async () => {
  assert.deepEqual(await starExportProblems(new URL("mod.ts", ROOT)), []);
});

Deno.test("the check finds a name two star exports give and one an explicit export shadows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "star_exports_" });
  try {
    await Deno.writeTextFile(
      `${dir}/a.ts`,
      "export type Direction = 0 | 1;\nexport const onlyA = 1;\n",
    );
    await Deno.writeTextFile(
      `${dir}/b.ts`,
      "export const twice = 1;\nexport type Direction = 'a->b';\n",
    );
    await Deno.writeTextFile(`${dir}/c.ts`, "export const twice = 2;\n");
    await Deno.writeTextFile(
      `${dir}/mod.ts`,
      [
        'export * from "./a.ts";',
        'export * from "./c.ts";',
        'export type { Direction } from "./b.ts";',
        'export { twice } from "./b.ts";',
        "",
      ].join("\n"),
    );
    const problems = await starExportProblems(new URL(`file://${dir}/mod.ts`));
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.match(problems[0]!, /^Direction \(.*a\.ts\): mod exports another, .*b\.ts:\d+$/);
    assert.match(problems[1]!, /^twice \(.*c\.ts\): mod exports another, .*b\.ts:\d+$/);
    await Deno.writeTextFile(`${dir}/mod.ts`, 'export * from "./b.ts";\nexport * from "./c.ts";\n');
    const both = await starExportProblems(new URL(`file://${dir}/mod.ts`));
    assert.ok(both.some((p) => /^twice: exported by .*b\.ts and .*c\.ts/.test(p)), both.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
