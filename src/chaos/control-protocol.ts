import { z } from 'zod';
import { ChaosError } from './chaos-error.js';
import type { FaultNetwork } from './fault-network.js';
import { LinkFaultsUpdateSchema } from './link-faults.js';

/**
 * The control protocol of a FaultNetwork living in another process: one JSON object per line in,
 * one per line out (see chaos-main.ts). Every command may carry an `id`, echoed in its response.
 *
 *   {"id":1,"op":"faults","faults":{"latencyMs":25,"jitterMs":5}}          every flow
 *   {"id":2,"op":"faults","from":0,"to":1,"faults":{"drop":true}}           bytes from node 0 to node 1
 *   {"id":3,"op":"partition","groups":[[0,1],[2,3,4]],"mode":"blackhole"}  mode: blackhole | reset
 *   {"id":4,"op":"isolate","node":2,"mode":"reset"}
 *   {"id":5,"op":"heal"}
 *   {"id":6,"op":"reset","from":0,"to":1}                                    or every link without from/to
 *   {"id":7,"op":"links"}    {"id":8,"op":"stats"}    {"id":9,"op":"close"}
 *
 * → {"id":1,"ok":true,"result":…} or {"id":1,"ok":false,"error":{"code":"CHAOS_BAD_FAULTS","message":…}}
 */

const id = z.union([z.string().max(200), z.number()]).optional();
const node = z.number().int().min(0);
const mode = z.enum(['blackhole', 'reset']).optional();

export const ControlCommandSchema = z.discriminatedUnion('op', [
  z.strictObject({
    id,
    op: z.literal('faults'),
    from: node.optional(),
    to: node.optional(),
    faults: LinkFaultsUpdateSchema,
  }),
  z.strictObject({ id, op: z.literal('partition'), groups: z.array(z.array(node)).min(1), mode }),
  z.strictObject({ id, op: z.literal('isolate'), node, mode }),
  z.strictObject({ id, op: z.literal('heal') }),
  z.strictObject({ id, op: z.literal('reset'), from: node.optional(), to: node.optional() }),
  z.strictObject({ id, op: z.literal('links') }),
  z.strictObject({ id, op: z.literal('stats') }),
  z.strictObject({ id, op: z.literal('close') }),
]);

export type ControlCommand = z.infer<typeof ControlCommandSchema>;

export type ControlResponse =
  | { id?: string | number; ok: true; result: unknown }
  | { id?: string | number; ok: false; error: { code: string; message: string } };

/** Longest accepted command line: far above any real command, small enough to never hurt. */
export const MAX_COMMAND_BYTES = 64 * 1024;

/** Parses one line; a typed CHAOS_BAD_COMMAND error says what is wrong with it. */
export function parseControlCommand(line: string): ControlCommand {
  if (line.length > MAX_COMMAND_BYTES)
    throw new ChaosError('CHAOS_BAD_COMMAND', `command longer than ${MAX_COMMAND_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new ChaosError('CHAOS_BAD_COMMAND', 'not a JSON object');
  }
  const parsed = ControlCommandSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ChaosError('CHAOS_BAD_COMMAND', `${issue.path.join('.') || 'command'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The links of a network as the helper reports them: where node `from` dials to reach `to`. */
export function linkAddresses(
  network: FaultNetwork,
): { from: number; to: number; host: string; port: number }[] {
  const out = [];
  for (let from = 0; from < network.size; from++)
    for (let to = 0; to < network.size; to++)
      if (from !== to) out.push({ from, to, ...network.addressFor(from, to) });
  return out;
}

export interface ControlOutcome {
  readonly response: ControlResponse;
  /** The command asked the owner of the network to close it (after sending the response). */
  readonly close: boolean;
}

/** Runs one command against `network`. Never throws: a refusal is an `ok: false` response. */
export function executeControlCommand(network: FaultNetwork, line: string): ControlOutcome {
  let cmd: ControlCommand | undefined;
  try {
    cmd = parseControlCommand(line);
    return { response: withId(cmd.id, { ok: true, result: apply(network, cmd) }), close: cmd.op === 'close' };
  } catch (err) {
    const error =
      err instanceof ChaosError
        ? { code: err.code, message: err.message }
        : { code: 'CHAOS_INTERNAL', message: err instanceof Error ? err.message : String(err) };
    return { response: withId(cmd?.id ?? idOf(line), { ok: false, error }), close: false };
  }
}

function apply(network: FaultNetwork, cmd: ControlCommand): unknown {
  switch (cmd.op) {
    case 'faults':
      if (cmd.from === undefined && cmd.to === undefined) network.setFaults(cmd.faults);
      else if (cmd.from !== undefined && cmd.to !== undefined)
        network.setLinkFaults(cmd.from, cmd.to, cmd.faults);
      else throw new ChaosError('CHAOS_BAD_LINK', 'faults takes both from and to, or neither');
      return null;
    case 'partition':
      network.partition(cmd.groups, cmd.mode);
      return null;
    case 'isolate':
      network.isolate(cmd.node, cmd.mode);
      return null;
    case 'heal':
      network.heal();
      return null;
    case 'reset':
      return { reset: network.reset(cmd.from, cmd.to) };
    case 'links':
      return linkAddresses(network);
    case 'stats':
      return network.stats();
    case 'close':
      return null; // the process that owns the network closes it after answering
  }
}

function withId(id: string | number | undefined, body: ControlResponse): ControlResponse {
  return id === undefined ? body : { id, ...body };
}

/** The id of a line that failed validation, if it has a usable one, so the caller can match the error. */
function idOf(line: string): string | number | undefined {
  try {
    const v = (JSON.parse(line) as { id?: unknown } | null)?.id;
    return typeof v === 'string' || typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}
