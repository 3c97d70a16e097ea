// deno-lint-ignore-file no-console -- the command line prints
/**
 * The deno-netstack command line: `demo`, `graph`, `up` (a virtual host on
 * TUN/TAP), and more as they land. The only place that picks real clocks,
 * real randomness and real drivers.
 *
 * @module
 */
import { DEMO_HELP, runDemo } from "./cli/demo.ts";
import { GRAPH_HELP, runGraph } from "./cli/graph.ts";

const HELP = `deno-netstack: a TCP/IP stack in TypeScript for Deno

Usage: deno run -A cli.ts <command> [options]

Commands:
  demo     a virtual LAN in memory: ARP, ping, a capture (no privileges)
  graph    print the plugin graph of a stack
  help     this text; "help <command>" for a command's options

Run "deno run -A cli.ts <command> --help" for each command's flags.
`;

const COMMANDS: Record<string, { help: string; run: (args: string[]) => Promise<number> }> = {
  demo: { help: DEMO_HELP, run: async (a) => (await runDemo(a)).code },
  graph: { help: GRAPH_HELP, run: runGraph },
};

/** Runs the CLI with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
    const topic = rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
    console.log(topic ? topic.help : HELP);
    return 0;
  }
  const command = COMMANDS[cmd];
  if (!command) {
    console.error(`Unknown command "${cmd}".\n\n${HELP}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    console.error(`${cmd}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
