/**
 * What a throwing `setup()` becomes at boot (the dispatcher rethrows it).
 *
 * @module
 */
import { PluginSetupError, StackError } from "./errors.ts";
import { describeThrown } from "./_fault.ts";

/**
 * The error a throwing `setup()` becomes: a {@linkcode StackError} as is
 * (it already names the plugin), a TypeError/RangeError (bad option values,
 * GUIDE) keeps its class and names the plugin, anything else a
 * {@linkcode PluginSetupError}. Total: a hostile thrown value (a revoked
 * Proxy, on which even `instanceof` throws) becomes a PluginSetupError.
 */
export function setupFailure(plugin: string, err: unknown): Error {
  try {
    if (err instanceof StackError) return err;
    if (err instanceof TypeError || err instanceof RangeError) {
      const Class = err instanceof TypeError ? TypeError : RangeError;
      return new Class(`Plugin "${plugin}" failed in setup(): ${describeMessage(err)}`, {
        cause: err,
      });
    }
  } catch {
    // fall through: not even its class can be read
  }
  return new PluginSetupError(plugin, "setup", err);
}

/** `err.message` when it is a readable string, else the total description. */
function describeMessage(err: Error): string {
  try {
    const m: unknown = err.message;
    if (typeof m === "string") return m;
  } catch {
    // unreadable message
  }
  return describeThrown(err);
}
