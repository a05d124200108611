import { CodedError } from '../util/coded-error.js';

/**
 * One code per transaction validity rule (DESIGN §4). Codes are stable: they are returned over
 * RPC and counted in metrics, so a rule keeps its code forever.
 */
export const TX_ERROR_CODES = [
  'MALFORMED',
  'UNSUPPORTED_VERSION',
  'WRONG_CHAIN',
  'TOO_LARGE',
  'NO_INPUTS',
  'NO_OUTPUTS',
  'WITNESS_COUNT',
  'BAD_PUBKEY',
  'DUPLICATE_INPUT',
  'DUST_OUTPUT',
  'VALUE_OVERFLOW',
  'LOCKTIME',
  'INPUT_NOT_FOUND',
  'IMMATURE_COINBASE',
  'COLLATERAL_LOCKED',
  'INSUFFICIENT_INPUTS',
  'FEE_TOO_LOW',
  'WITNESS_KEY_MISMATCH',
  'BAD_SIGNATURE',
  'BAD_PAYLOAD',
  'MASTERNODE_EXISTS',
  'REGISTRATION_FEE',
  'MASTERNODE_UNKNOWN',
  'DEREG_UNAUTHORIZED',
  'BAD_NODE_SIGNATURE',
] as const;

export type TxErrorCode = (typeof TX_ERROR_CODES)[number];

export class TxError extends CodedError<TxErrorCode> {}
