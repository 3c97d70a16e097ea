/**
 * Typed errors for the boot and API paths. The packet path never throws: it
 * returns drop reasons that the dispatcher counts.
 *
 * @module
 */

/** Base class of the stack's own errors; `code` is stable and machine-readable. */
export class StackError extends Error {
  /** A stable code, e.g. `"EPLUGINDEP"`. */
  readonly code: string;
  /** Creates an error with a stable `code`. */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A plugin's manifest is invalid (shape, name, version, api range). */
export class PluginManifestError extends StackError {
  /** The offending plugin's name (or its position when it has none). */
  readonly plugin: string;
  /** Creates the error for `plugin`. */
  constructor(plugin: string, message: string) {
    super("EPLUGINMANIFEST", `Invalid manifest for plugin "${plugin}": ${message}`);
    this.plugin = plugin;
  }
}

/** A dependency or required service is missing, or dependencies form a cycle. */
export class PluginDependencyError extends StackError {
  /** The plugin whose dependency failed. */
  readonly plugin: string;
  /** Creates the error for `plugin`. */
  constructor(plugin: string, message: string) {
    super("EPLUGINDEP", `Cannot set up plugin "${plugin}": ${message}`);
    this.plugin = plugin;
  }
}

/** Two plugins claim the same key of an exclusive table. */
export class BindingConflictError extends StackError {
  /** Creates the error naming both plugins. */
  constructor(table: string, key: number, first: string, second: string) {
    super(
      "EBINDING",
      `Cannot bind plugin "${second}" to ${table} ${key}: already bound by "${first}"`,
    );
  }
}

/** A driver failed to open, attach or send. */
export class DriverError extends StackError {
  /** Creates a driver error. */
  constructor(message: string, options?: ErrorOptions) {
    super("EDRIVER", message, options);
  }
}

/**
 * A plugin's `setup()` (or, when the stack is asked to fail on it, its
 * `ready()`) threw at boot. The message names the plugin and the step;
 * `cause` is what it threw.
 *
 * @example
 * ```ts
 * import { PluginSetupError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const e = new PluginSetupError("hello", "setup", new Error("no table"));
 * assert.equal(e.message, 'Plugin "hello" failed in setup(): no table');
 * assert.equal(e.code, "EPLUGINSETUP");
 * ```
 */
export class PluginSetupError extends StackError {
  /** The plugin that failed. */
  readonly plugin: string;
  /** Creates the error for `plugin`'s `step`, caused by `cause`. */
  constructor(plugin: string, step: "setup" | "ready", cause: unknown) {
    const why = describeCause(cause); // total: a hostile cause must not throw here
    super("EPLUGINSETUP", `Plugin "${plugin}" failed in ${step}(): ${why}`, { cause });
    this.plugin = plugin;
  }
}

/** `cause`'s message, or its string, or a fallback: never throws. */
function describeCause(cause: unknown): string {
  try {
    if (cause instanceof Error) return String(cause.message);
    return String(cause);
  } catch {
    return `(unprintable ${typeof cause} thrown)`;
  }
}
