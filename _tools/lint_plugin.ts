/**
 * The `netstack` lint plugin: the GUIDE's "Time and randomness" and
 * "Packet views" rules, enforced by `deno lint` rather than by prose.
 *
 * Rules:
 * - `netstack/no-wall-clock`: no `Date.now`, `Date()`, `new Date()`,
 *   `performance.now`, `Temporal.Now`, `setTimeout`, `setInterval`,
 *   `Math.random`, `crypto.getRandomValues` or `crypto.randomUUID`, except in
 *   `stack/clock.ts`, `stack/rng.ts`, `cli.ts`, `drivers/`, `tests/`, `bench/`,
 *   `_tools/` and `*_test.ts` / `*_bench.ts` files. `new Date(value)` with an
 *   argument is allowed: it formats a given time and reads no clock.
 * - `netstack/no-copy-slice`: no `.slice(` in `stack/wire/` and
 *   `stack/protocols/` (tests excepted) unless the site carries a
 *   `// copy: <reason>` comment, on the same line as `.slice`, on the line
 *   where the call ends, or alone on the line just above.
 * - `netstack/no-cross-protocol-import`: a file in `stack/protocols/<name>/`
 *   may not import (statically, dynamically, as a type, or by re-export) from
 *   `stack/protocols/<other>/`, nor the built-in registry
 *   `stack/protocols/mod.ts` (that imports every protocol); `*_test.ts` files
 *   may import the registry to build a whole stack.
 * - `netstack/socket-layering`: the socket adapters (`stack/sockets/`) sit
 *   above the plugins and talk to them only through the socket contracts
 *   (`stack/stream.ts`, `stack/services.ts`): no file in `stack/sockets/`
 *   imports from `stack/protocols/`, and no file in `stack/protocols/`
 *   imports from `stack/sockets/` (plugins know no promises, no `Deno.errors`
 *   mapping, no `NetAddr` text). Tests excepted.
 *
 * Paths are judged relative to the repository root, which is the parent of
 * this file's directory. A relative file name (as given to
 * `Deno.lint.runPlugin` in tests) is taken as already relative to the root.
 *
 * @module
 */

type Node = Deno.lint.Node;

/** The repository root as a path with a trailing slash. */
const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** Returns `filename` relative to the repository root, with `/` separators. */
export function repoPath(filename: string): string {
  const f = filename.replaceAll("\\", "/");
  if (f.startsWith(ROOT)) return f.slice(ROOT.length);
  return f.replace(/^\.\//, "");
}

/** Files allowed to read real time and entropy (GUIDE: time and randomness). */
function isClockExempt(path: string): boolean {
  return path === "stack/clock.ts" ||
    path === "stack/rng.ts" ||
    path === "cli.ts" ||
    /^(cli|drivers|tests|bench|_tools)\//.test(path) ||
    /_(test|bench)\.[cm]?[jt]sx?$/.test(path);
}

function isTestFile(path: string): boolean {
  return /_(test|bench)\.[cm]?[jt]sx?$/.test(path);
}

/** Global-object aliases stripped from the front of a dotted name. */
const GLOBAL_ALIASES = new Set(["globalThis", "window", "self"]);

/** Dotted global names that read the wall clock or real entropy. */
const BANNED_NAMES: ReadonlyMap<string, string> = new Map([
  ["Date.now", "`Date.now()` reads the wall clock; take `now` from the stack's `Clock`"],
  ["performance.now", "`performance.now()` reads the wall clock; only `SystemClock` may"],
  ["Temporal.Now", "`Temporal.Now` reads the wall clock; take `now` from the stack's `Clock`"],
  ["setTimeout", "the core never sets timers: return a deadline from `pollAt()`"],
  ["setInterval", "the core never sets timers: return a deadline from `pollAt()`"],
  ["Math.random", "`Math.random()` is unseeded; use the stack's seeded `Rng`"],
  ["crypto.getRandomValues", "real entropy comes only from `stack/rng.ts`; use the seeded `Rng`"],
  ["crypto.randomUUID", "real entropy comes only from `stack/rng.ts`; use the seeded `Rng`"],
]);

/** Strips TypeScript-only wrappers that do not change the value. */
function unwrap(node: Node): Node {
  let n = node;
  while (
    n.type === "ChainExpression" || n.type === "TSNonNullExpression" ||
    n.type === "TSAsExpression" || n.type === "TSSatisfiesExpression"
  ) {
    n = n.expression;
  }
  return n;
}

/** The static name of a member key (`a.b`, `a["b"]`), or `null`. */
function keyName(key: Node, computed: boolean): string | null {
  if (!computed && key.type === "Identifier") return key.name;
  if (key.type === "Literal" && typeof key.value === "string") return key.value;
  if (key.type === "TemplateLiteral" && key.expressions.length === 0) {
    return key.quasis[0]?.cooked ?? null;
  }
  return null;
}

/**
 * The dotted name of an identifier or static member chain, with leading
 * `globalThis.` / `window.` / `self.` removed (`""` for the global object
 * itself), or `null` when the expression is not a static chain.
 */
function globalName(node: Node): string | null {
  const n = unwrap(node);
  if (n.type === "Identifier") return GLOBAL_ALIASES.has(n.name) ? "" : n.name;
  if (n.type === "MemberExpression") {
    const base = globalName(n.object);
    if (base === null) return null;
    const key = keyName(n.property, n.computed);
    if (key === null) return null;
    return base === "" && GLOBAL_ALIASES.has(key) ? "" : base === "" ? key : `${base}.${key}`;
  }
  return null;
}

/** Whether an `Identifier` is a value reference (not a key, a declaration or a type query). */
function isReference(node: Deno.lint.Identifier): boolean {
  const p = node.parent;
  switch (p.type) {
    case "MemberExpression":
      return p.object === node || p.computed;
    case "Property":
      return p.value === node || (p.computed && p.key === node) || p.shorthand;
    case "MethodDefinition":
    case "PropertyDefinition":
    case "TSPropertySignature":
    case "TSMethodSignature":
      return p.computed && p.key === node;
    case "VariableDeclarator":
      return p.init === node;
    case "FunctionDeclaration":
    case "FunctionExpression":
    case "ClassDeclaration":
    case "ClassExpression":
      return p.id !== node;
    case "TSTypeQuery":
    case "TSQualifiedName":
    case "ImportSpecifier":
    case "ImportDefaultSpecifier":
    case "ImportNamespaceSpecifier":
    case "ExportSpecifier":
    case "LabeledStatement":
    case "BreakStatement":
    case "ContinueStatement":
      return false;
    default:
      return true;
  }
}

const noWallClock: Deno.lint.Rule = {
  create(context) {
    if (isClockExempt(repoPath(context.filename))) return {};
    function check(node: Node, name: string | null): boolean {
      if (name === null) return false;
      const why = BANNED_NAMES.get(name);
      if (why === undefined) return false;
      context.report({
        node,
        message:
          `\`${name}\` is banned outside stack/clock.ts, stack/rng.ts, cli.ts, cli/ and drivers/`,
        hint: why,
      });
      return true;
    }
    return {
      MemberExpression(node) {
        check(node, globalName(node));
      },
      Identifier(node) {
        if (
          (node.name === "setTimeout" || node.name === "setInterval") && isReference(node)
        ) {
          check(node, node.name);
        }
      },
      NewExpression(node) {
        if (globalName(node.callee) === "Date" && node.arguments.length === 0) {
          context.report({
            node,
            message: "`new Date()` reads the wall clock",
            hint: "take `now` from the stack's `Clock`; `new Date(value)` is fine for formatting",
          });
        }
      },
      CallExpression(node) {
        if (globalName(node.callee) === "Date") {
          context.report({
            node,
            message: "`Date()` reads the wall clock",
            hint: "take `now` from the stack's `Clock`",
          });
        }
      },
      VariableDeclarator(node) {
        // `const { now } = performance;`, `const { setTimeout } = globalThis;`
        if (node.id.type !== "ObjectPattern" || node.init === null) return;
        const base = globalName(node.init);
        if (base === null) return;
        for (const prop of node.id.properties) {
          if (prop.type !== "Property") continue;
          const key = keyName(prop.key, prop.computed);
          if (key !== null) check(prop, base === "" ? key : `${base}.${key}`);
        }
      },
    };
  },
};

/** Offsets at which each line of `text` starts. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 10) starts.push(i + 1);
  }
  return starts;
}

/** The 0-based line containing `offset` (binary search over `starts`). */
function lineOf(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const COPY_MARKER = /^\s*copy:/;

const noCopySlice: Deno.lint.Rule = {
  create(context) {
    const path = repoPath(context.filename);
    if (!/^stack\/(wire|protocols)\//.test(path) || isTestFile(path)) return {};
    // Lines that carry a `// copy:` marker, and those where it stands alone.
    let markers: { trailing: Set<number>; alone: Set<number>; starts: number[] } | undefined;
    function getMarkers() {
      if (markers !== undefined) return markers;
      const text = context.sourceCode.text;
      const starts = lineStarts(text);
      const trailing = new Set<number>();
      const alone = new Set<number>();
      for (const c of context.sourceCode.getAllComments()) {
        if (c.type !== "Line" || !COPY_MARKER.test(c.value)) continue;
        const line = lineOf(starts, c.range[0]);
        trailing.add(line);
        if (text.slice(starts[line], c.range[0]).trim() === "") alone.add(line);
      }
      markers = { trailing, alone, starts };
      return markers;
    }
    return {
      CallExpression(node) {
        const callee = unwrap(node.callee);
        if (callee.type !== "MemberExpression") return;
        if (keyName(callee.property, callee.computed) !== "slice") return;
        const obj = unwrap(callee.object);
        if (obj.type === "Literal" || obj.type === "TemplateLiteral") return; // a string
        const { trailing, alone, starts } = getMarkers();
        const line = lineOf(starts, callee.property.range[0]);
        const endLine = lineOf(starts, node.range[1] - 1);
        if (trailing.has(line) || trailing.has(endLine) || alone.has(line - 1)) return;
        context.report({
          node: callee.property,
          message: "`.slice()` copies; packet views use `.subarray()`",
          hint: "if the copy is intended (data kept past `receive()`, or a non-hot-path " +
            "string/array), mark the line with `// copy: <reason>`",
        });
      },
    };
  },
};

/** The literal specifier of an import-like node, or `null` when it is computed. */
function specifierOf(node: Node | null): string | null {
  if (node === null) return null;
  if (node.type === "Literal" && typeof node.value === "string") return node.value;
  if (node.type === "TemplateLiteral" && node.expressions.length === 0) {
    return node.quasis[0]?.cooked ?? null;
  }
  if (node.type === "TSLiteralType") return specifierOf(node.literal);
  return null;
}

/** Resolves `spec` (relative to repo file `from`) to a repo path, or `null` if not local. */
function resolveLocal(from: string, spec: string): string | null {
  if (!spec.startsWith("./") && !spec.startsWith("../")) return null;
  const base = new URL(`file:///__root__/${from}`);
  const url = new URL(spec, base);
  const p = decodeURIComponent(url.pathname);
  return p.startsWith("/__root__/") ? p.slice("/__root__/".length) : null;
}

/**
 * Visitors that hand every import-like node (static and dynamic imports,
 * re-exports, `import("x")` types) and its specifier node to `check`.
 */
function importVisitors(check: (node: Node, source: Node | null) => void): Deno.lint.LintVisitor {
  return {
    ImportDeclaration(node) {
      check(node, node.source);
    },
    ExportNamedDeclaration(node) {
      check(node, node.source);
    },
    ExportAllDeclaration(node) {
      check(node, node.source);
    },
    ImportExpression(node) {
      check(node, node.source);
    },
    TSImportType(node) {
      check(node, node.argument);
    },
  };
}

const noCrossProtocolImport: Deno.lint.Rule = {
  create(context) {
    const path = repoPath(context.filename);
    const own = /^stack\/protocols\/([^/]+)\//.exec(path)?.[1];
    if (own === undefined) return {};
    const isTest = isTestFile(path);
    function check(node: Node, source: Node | null) {
      const spec = specifierOf(source);
      if (spec === null) return;
      const target = resolveLocal(path, spec);
      if (target === null) return;
      const other = /^stack\/protocols\/([^/]+)\//.exec(target)?.[1];
      if (other !== undefined && other !== own) {
        context.report({
          node,
          message: `protocol "${own}" imports from protocol "${other}" (${spec})`,
          hint: "protocols never import each other: talk through the dispatcher's tables " +
            "and declared services, or move shared wire code to stack/wire/",
        });
      } else if (target === "stack/protocols/mod.ts" && !isTest) {
        context.report({
          node,
          message: `protocol "${own}" imports the built-in registry (${spec})`,
          hint: "the registry imports every protocol; only tests and mod.ts may use it",
        });
      }
    }
    return importVisitors(check);
  },
};

const socketLayering: Deno.lint.Rule = {
  create(context) {
    const path = repoPath(context.filename);
    if (isTestFile(path)) return {};
    const inSockets = path.startsWith("stack/sockets/");
    const inProtocols = path.startsWith("stack/protocols/");
    if (!inSockets && !inProtocols) return {};
    const banned = inSockets ? "stack/protocols/" : "stack/sockets/";
    function check(node: Node, source: Node | null) {
      const spec = specifierOf(source);
      if (spec === null) return;
      const target = resolveLocal(path, spec);
      if (target === null || !target.startsWith(banned)) return;
      context.report({
        node,
        message: inSockets
          ? `a socket adapter imports a protocol plugin (${spec})`
          : `a protocol plugin imports a socket adapter (${spec})`,
        hint: "adapters and plugins meet only through the socket contracts " +
          "(stack/stream.ts, stack/services.ts) and the services the stack hands out",
      });
    }
    return importVisitors(check);
  },
};

/** The plugin, registered in `deno.json` under `lint.plugins`. */
const plugin: Deno.lint.Plugin = {
  name: "netstack",
  rules: {
    "no-wall-clock": noWallClock,
    "no-copy-slice": noCopySlice,
    "no-cross-protocol-import": noCrossProtocolImport,
    "socket-layering": socketLayering,
  },
};

export default plugin;
