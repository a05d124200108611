/**
 * The ONLY module that loads uWebSockets.js. The package's own entry (src/uws.js) silently falls
 * back to a slow JS shim when the native binary does not match this Node ABI; a masternode must not
 * run on the shim unnoticed, so we load the binary ourselves and stop with a clear error instead.
 *
 * Package: @trufflesuite/uws-js-unofficial@20.30.0-unofficial.0 (uWebSockets.js v20.30), pinned.
 * @based/uws (named in DESIGN §7) ships binaries for Node ABIs 72–102 only and cannot load on Node 20.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as UwsTypes from '@trufflesuite/uws-js-unofficial';
import { CodedError } from '../util/coded-error.js';

export type Uws = typeof UwsTypes;
export type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  us_listen_socket,
  WebSocket,
} from '@trufflesuite/uws-js-unofficial';

const PACKAGE = '@trufflesuite/uws-js-unofficial';

/** uWS native binary missing or not loadable on this platform/Node ABI. */
export class UwsLoadError extends CodedError<'UWS_NATIVE_UNAVAILABLE'> {}

let loaded: Uws | undefined;

/** Path of the native binary for this process (platform, arch, Node module ABI). */
export function uwsBinaryPath(): string {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve(`${PACKAGE}/package.json`));
  const file = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  return join(pkgDir, 'binaries', file);
}

/**
 * Loads the native uWS binary once. Throws UwsLoadError (with the path and Node version) when it
 * does not exist or fails to load — e.g. Node 22 (ABI 127), for which no binary is published.
 */
export function loadUws(): Uws {
  loaded ??= loadUwsFrom(uwsBinaryPath());
  return loaded;
}

/** Loads a uWS binary from `path` (exported so the failure path can be tested). */
export function loadUwsFrom(path: string): Uws {
  const details = { path, node: process.version, abi: process.versions.modules, package: PACKAGE };
  if (!existsSync(path)) {
    throw new UwsLoadError(
      'UWS_NATIVE_UNAVAILABLE',
      `no uWebSockets.js native binary for ${process.platform}-${process.arch} Node ${process.version} (ABI ${process.versions.modules}); expected ${path}. Use Node 20 or a uWS package built for this ABI.`,
      details,
    );
  }
  try {
    const require = createRequire(import.meta.url);
    const mod = require(path) as Uws;
    if (typeof mod.App !== 'function') throw new Error('binary does not export App');
    return mod;
  } catch (err) {
    throw new UwsLoadError(
      'UWS_NATIVE_UNAVAILABLE',
      `uWebSockets.js native binary failed to load from ${path}: ${(err as Error).message}`,
      details,
    );
  }
}
