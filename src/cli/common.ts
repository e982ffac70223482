// Shared by the command modules: global options and opening the desk.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { openDesk, type Desk } from '../runtime/context.js';
import { createLogger } from '../runtime/logger.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

/** Open the desk for a command, with the global options wherever they were written. */
export function deskFor(cmd: Command, opts: { syncDirectory?: boolean; now?: Date } = {}): Desk {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const cfg = loadConfig(g.config);
  return openDesk(cfg, { log: createLogger(), ...opts });
}

export function isJson(cmd: Command): boolean {
  return Boolean(cmd.optsWithGlobals<GlobalOptions>().json);
}

/** Run an action with the desk open, closing it whatever happens. */
export async function withDesk<T>(cmd: Command, fn: (desk: Desk) => Promise<T> | T, opts: { syncDirectory?: boolean; now?: Date } = {}): Promise<T> {
  const desk = deskFor(cmd, opts);
  try {
    return await fn(desk);
  } finally {
    desk.close();
  }
}
