import assert from "node:assert/strict";

interface InfoDependency {
  readonly code?: { readonly specifier?: string };
  readonly isDynamic?: boolean;
}
interface InfoModule {
  readonly specifier: string;
  readonly dependencies?: readonly InfoDependency[];
}

/** The specifiers `root` loads at import time (static imports only, followed transitively). */
async function staticGraph(root: URL): Promise<Set<string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root.href],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(out.success, "deno info failed");
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    readonly modules: readonly InfoModule[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>([root.href]);
  const todo = [root.href];
  for (let s = todo.pop(); s !== undefined; s = todo.pop()) {
    for (const dep of bySpecifier.get(s)?.dependencies ?? []) {
      const target = dep.code?.specifier;
      if (dep.isDynamic || target === undefined || seen.has(target)) continue;
      seen.add(target);
      todo.push(target);
    }
  }
  return seen;
}

Deno.test("importing mod.ts does not load node:dgram (the VXLAN driver loads it when it opens a device)", async () => {
  const graph = await staticGraph(new URL("../../mod.ts", import.meta.url));
  assert.ok(
    graph.has(new URL("./_udp.ts", import.meta.url).href),
    "the VXLAN driver is in the graph",
  );
  assert.ok(!graph.has("node:dgram"), "node:dgram is imported statically");
});
