// deno-lint-ignore-file no-console -- the command line prints
/**
 * `cli.ts graph`: prints a stack's data path Click-style.
 *
 * @module
 */
import { createStack, formatHookPath, LINKTYPE_RAW, type Stack, VirtualNetwork } from "../mod.ts";
import { bootChecks, checkInputPath, parseOptions, pluginList, UsageError } from "./_common.ts";

/** Help text of `graph`. */
export const GRAPH_HELP = `Usage: deno run --allow-read cli.ts graph [options]

Prints the plugin graph of a stack: which plugin handles which key of which
table, which link output sends on each interface (and the neighbour services
it uses), the hook chains and the services; then the hook points in the order
the network layer runs them, each with its chain.

Options:
  --manifest FILE   a JSON stack manifest (default: the built-in plugins);
                    see plugins/README.md for its format ("-": standard input)
  --plugin PATH     add a plugin by built-in name, file path or URL
                    (repeatable; added after the manifest's plugins)
  --json            print describe() as JSON instead
  -h, --help        this text

Exit status: 0; 1 when a plugin cannot be loaded or set up; 2 for bad options.

Examples:
  deno run --allow-read cli.ts graph --plugin ./plugins/hello_ether/mod.ts
  deno run --allow-read cli.ts graph --plugin ./plugins/block_source/mod.ts --json
`;

/**
 * Runs `graph`; returns the exit code.
 *
 * @example
 * ```ts
 * import { runGraph } from "./graph.ts";
 * import assert from "node:assert/strict";
 * const out: string[] = [];
 * assert.equal(await runGraph([], (s) => out.push(s)), 0);
 * assert.match(out.join("\n"), /ethernet/);
 * ```
 */
export async function runGraph(
  args: string[],
  print: (s: string) => void = console.log,
): Promise<number> {
  const { values, positionals } = parseOptions({
    args,
    allowPositionals: true,
    options: {
      manifest: { type: "string" },
      plugin: { type: "string", multiple: true },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    print(GRAPH_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.manifest !== undefined) checkInputPath("--manifest", values.manifest);
  for (const p of values.plugin ?? []) {
    if (p.startsWith(".") || p.startsWith("/")) checkInputPath("--plugin", p);
  }
  const plugins = await pluginList({ manifest: values.manifest, plugins: values.plugin ?? [] });
  const stack: Stack = createStack({ ...bootChecks(), plugins });
  // Two example interfaces so the graph shows both link types.
  const net = new VirtualNetwork();
  try {
    stack.addInterface({ name: "eth0", driver: net.link().a });
    stack.addInterface({ name: "tun0", driver: net.link({ linkType: LINKTYPE_RAW }).a });
    print(
      values.json
        ? JSON.stringify(stack.describe(), null, 2)
        : `${stack.graph()}\n\n${formatHookPath(stack.describe())}`,
    );
  } finally {
    stack.close();
    net.close();
  }
  return 0;
}
