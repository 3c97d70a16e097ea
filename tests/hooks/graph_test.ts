import assert from "node:assert/strict";
import { runGraph } from "../../cli/graph.ts";
import { ACCEPT, createStack, DEFAULT_PLUGINS, formatHookPath } from "../../mod.ts";
import { recorder } from "./_hooks.ts";

Deno.test("hooks: graph draws the hook points in order with their chains", async () => {
  const out: string[] = [];
  const url = new URL("../../plugins/block_source/mod.ts", import.meta.url).pathname;
  assert.equal(await runGraph(["--plugin", url], (s) => out.push(s)), 0);
  const text = out.join("\n");
  assert.match(text, /^hook prerouting: block_source$/m, "the chain line stays");
  assert.match(
    text,
    /^rx -> \[ingress: -\] -> \[prerouting: block_source\] -> route\? -\+- local {3}-> \[input: -\] -> transport$/m,
  );
  assert.match(text, /\+- forward -> \[forward: -\] -> \[postrouting: -\]/);
  assert.match(text, /^transport -> route -> \[output: -\] -> \(route again/m);
});

Deno.test("hooks: describe() names the points whose chain asked for defrag", () => {
  const stack = createStack({
    plugins: [
      ...DEFAULT_PLUGINS,
      recorder(
        "ct",
        [{ point: "prerouting", defrag: true }, { point: "output" }],
        [],
        () => ACCEPT,
      ),
    ],
  });
  const d = stack.describe();
  assert.deepEqual(d.defragHooks, ["prerouting"]);
  assert.match(formatHookPath(d), /\[prerouting \(defrag\): ct\]/);
  assert.match(formatHookPath(d), /\[output: ct\]/);
  stack.close();
});
