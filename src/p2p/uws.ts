/**
 * The ONLY module that loads uWebSockets.js. We load the native binary file ourselves instead of the
 * package entry so that a missing or unloadable binary is a typed start-up error that tells the
 * operator what to install, never a stack trace from inside the package.
 *
 * Package: @based/uws@6.0.1 (uWebSockets.js v20.51.0), pinned exactly (npm's `latest` tag of the
 * same package, 20.6.0, is an older build that stops at Node 18). Its Linux x64 binaries by Node
 * module ABI, and the newest glibc symbol version each references (objdump -T; tested on glibc 2.36):
 *   ABI 108 Node 18, 115 Node 20, 127 Node 22, 131 Node 23: glibc 2.27;
 *   ABI 137 Node 24, 141 Node 25: glibc 2.38 (Debian 13, Ubuntu 24.04).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as UwsTypes from '@based/uws';
import { CodedError } from '../util/coded-error.js';

export type Uws = typeof UwsTypes;
export type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, WebSocket } from '@based/uws';

const PACKAGE = '@based/uws';
const PACKAGE_VERSION = '6.0.1';

/** What each published binary needs, by Node module ABI (Linux). */
export const UWS_BINARIES: Readonly<Record<string, { node: string; glibc: string }>> = Object.freeze({
  '108': { node: '18', glibc: '2.27' },
  '115': { node: '20', glibc: '2.27' },
  '127': { node: '22', glibc: '2.27' },
  '131': { node: '23', glibc: '2.27' },
  '137': { node: '24', glibc: '2.38' },
  '141': { node: '25', glibc: '2.38' },
});

/** uWS native binary missing or not loadable on this platform/Node ABI. */
export class UwsLoadError extends CodedError<'UWS_NATIVE_UNAVAILABLE'> {}

let loaded: Uws | undefined;

/** Path of the native binary for this process (platform, arch, Node module ABI). */
export function uwsBinaryPath(): string {
  const require = createRequire(import.meta.url);
  // The package's `exports` hide package.json; its CommonJS entry (uws.js) sits beside the binaries.
  const pkgDir = dirname(require.resolve(PACKAGE));
  const file = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  return join(pkgDir, file);
}

/** The C library version this process runs on (Linux glibc), or undefined elsewhere. */
export function glibcVersion(): string | undefined {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  return header?.glibcVersionRuntime;
}

/**
 * Loads the native uWS binary once. Throws UwsLoadError when it does not exist or fails to load;
 * the message names this Node version and ABI, the glibc found, what the binary needs, and what to
 * install instead.
 */
export function loadUws(): Uws {
  loaded ??= loadUwsFrom(uwsBinaryPath());
  return loaded;
}

/** The operator's way out, for the current ABI. */
function remedy(abi: string): string {
  const need = UWS_BINARIES[abi];
  if (need === undefined) {
    return `${PACKAGE}@${PACKAGE_VERSION} has no binary for Node ABI ${abi}; install Node.js 22 LTS (or 20)`;
  }
  return `the Node ${need.node} binary needs glibc ${need.glibc} or newer; upgrade the OS (e.g. Debian 13, Ubuntu 24.04) or install Node.js 22 LTS, whose binary needs only glibc 2.27`;
}

/** Loads a uWS binary from `path` (exported so the failure path can be tested). */
export function loadUwsFrom(path: string): Uws {
  // The ABI the binary was built for is in its file name (uws_<platform>_<arch>_<abi>.node).
  const abi = /_(\d+)\.node$/.exec(path)?.[1] ?? process.versions.modules;
  // Only on failure: process.report is a diagnostic API, not something to run on every start.
  const describe = () => {
    const glibc = glibcVersion();
    return {
      where: `${process.platform}-${process.arch} Node ${process.version} (ABI ${process.versions.modules}${glibc ? `, glibc ${glibc}` : ''})`,
      details: { path, node: process.version, abi, glibc: glibc ?? '', package: PACKAGE },
    };
  };
  if (!existsSync(path)) {
    const { where, details } = describe();
    throw new UwsLoadError(
      'UWS_NATIVE_UNAVAILABLE',
      `no uWebSockets.js native binary for ${where}; expected ${path}: ${remedy(abi)}`,
      details,
    );
  }
  try {
    const require = createRequire(import.meta.url);
    const mod = require(path) as Uws;
    if (typeof mod.App !== 'function') throw new Error('binary does not export App');
    return mod;
  } catch (err) {
    const { where, details } = describe();
    throw new UwsLoadError(
      'UWS_NATIVE_UNAVAILABLE',
      `uWebSockets.js native binary failed to load on ${where} from ${path}: ${(err as Error).message.split('\n')[0]}; ${remedy(abi)}`,
      details,
    );
  }
}
