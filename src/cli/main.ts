#!/usr/bin/env node
import type { CliCommand } from './command.js';
import { addressCommand } from './commands/address.js';
import { peersCommand, rpcCommand, statusCommand, txCommand } from './commands/client.js';
import { devnetCommand } from './commands/devnet.js';
import { inspectDbCommand } from './commands/inspect-db.js';
import { keygenCommand } from './commands/keygen.js';
import { masternodeCommand } from './commands/masternode.js';
import { nodeCommand } from './commands/node.js';
import { p2pProbeCommand } from './commands/p2p-probe.js';
import { simCommand } from './commands/sim.js';
import { vdfCommand } from './commands/vdf.js';
import { balanceCommand, sendCommand, walletCommand } from './commands/wallet.js';
import { reportError } from './report-error.js';

/** Every subcommand, in the order `timecoin help` lists them. */
const COMMANDS: readonly CliCommand[] = [
  nodeCommand,
  devnetCommand,
  walletCommand,
  balanceCommand,
  sendCommand,
  txCommand,
  statusCommand,
  peersCommand,
  masternodeCommand,
  rpcCommand,
  keygenCommand,
  addressCommand,
  inspectDbCommand,
  p2pProbeCommand,
  vdfCommand,
  simCommand,
];

function help(): void {
  console.log('usage: timecoin <command> [options]\n\ncommands:');
  for (const c of COMMANDS) console.log(`  ${c.name.padEnd(14)} ${c.summary}`);
  console.log("\n`timecoin <command> --help` shows a command's options.");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    help();
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`timecoin: unknown command ${JSON.stringify(name)}`);
    help();
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: timecoin ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    // One line for what an operator can act on; a programming error keeps its stack (report-error.ts).
    const code = reportError(command, err);
    if (code === undefined) throw err;
    return code;
  }
}

process.exitCode = await main(process.argv.slice(2));
