/**
 * `up --serve NAME:PORT`: a service on another port runs beside its default
 * one as its own plugin (`NAME-PORT`, its own counters), and every mistake
 * in the word is a one-line usage error (exit 2) before anything starts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { runUpWhileReady } from "./_up.ts";
import type { PluginEntry } from "../../stack/boot.ts";
import { SERVICES } from "../../plugins/services/mod.ts";
import { chosenServices, parseServeWord, serveProblem } from "../../cli/_serve.ts";

Deno.test("up --serve: bad ports, a port on a service without one, one port twice: exit 2, one line", async () => {
  const services = { ...SERVICES, banner: { description: "logs a line", start() {} } };
  const cases: [string, RegExp][] = [
    ["iperf3:0", /--serve iperf3:0: the port "0" is not a port \(1\.\.65535\)/],
    ["echo:65536", /the port "65536" is not a port/],
    ["echo:7x", /the port "7x" is not a port/],
    ["echo:", /the port "" is not a port/],
    ["banner:99", /--serve banner:99: this service takes no port/],
    ["iperf3,iperf3:5201", /--serve iperf3:5201: iperf3 already runs on port 5201/],
    ["echo:7007,echo:7007", /--serve echo:7007: echo already runs on port 7007/],
    ["gopher:70", /unknown service gopher for --serve/],
  ];
  for (const [serve, want] of cases) {
    const r = await runUpWhileReady(["--driver", "loopback", "--serve", serve], undefined, {
      services,
    });
    assert.equal(r.code, 2, serve);
    assert.equal(r.err.length, 1, `${serve}: ${r.err.join("\n")}`);
    assert.match(r.err[0]!, want, serve);
    assert.deepEqual(r.out, [], serve);
  }
});

Deno.test("up --serve iperf3,iperf3:5202,echo,echo: two iperf3 plugins with their own counters", async () => {
  let names: readonly string[] = [];
  let counters: string[] = [];
  const r = await runUpWhileReady(
    ["--driver", "loopback", "--address", "10.3.0.5/24", "--serve", "iperf3,iperf3:5202,echo,echo"],
    (stack) => {
      names = stack.pluginNames;
      counters = Object.keys(stack.counters.snapshot(true));
      return Promise.resolve();
    },
    { services: SERVICES },
  );
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.ok(names.includes("iperf3") && names.includes("iperf3-5202"), names.join(" "));
  assert.equal(names.filter((n) => n === "echo").length, 1, "a plain name twice is one service");
  assert.ok(counters.includes("iperf3-5202.bytes") && counters.includes("iperf3.bytes"));
});

Deno.test("chosenServices: the default port keeps the entry; another renames and sets the port", () => {
  assert.deepEqual(parseServeWord("iperf3:5202"), { name: "iperf3", port: 5202 });
  assert.equal(serveProblem(["iperf3:5201"], SERVICES), undefined);
  const [same, moved] = chosenServices(["iperf3:5201", "iperf3:5202"], SERVICES);
  assert.equal(same, SERVICES.iperf3, "iperf3:5201 is iperf3");
  const e = moved!.plugins![0]!;
  assert.ok("plugin" in e);
  assert.equal(e.plugin.manifest.name, "iperf3-5202");
  assert.deepEqual(e.options, { port: 5202 });
  assert.deepEqual(e.plugin.manifest.counters, SERVICES.iperf3!.plugins[0]!.manifest.counters);
  // Options a registry entry already sets are kept (the benchmark's copyReceived).
  const copying = {
    iperf3: {
      description: "",
      plugins: [{ plugin: SERVICES.iperf3!.plugins[0]!, options: { copyReceived: true } }],
    },
  };
  const [c] = chosenServices(["iperf3:6000"], copying);
  assert.deepEqual((c!.plugins![0] as PluginEntry).options, {
    copyReceived: true,
    port: 6000,
  });
});
