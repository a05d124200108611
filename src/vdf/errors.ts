import { CodedError } from '../util/coded-error.js';

export type VdfErrorCode =
  | 'VDF_BAD_ELEMENT'
  | 'VDF_BAD_DELAY'
  | 'VDF_BAD_MODULUS'
  | 'VDF_BAD_CHECKPOINTS'
  | 'VDF_HASH_TO_GROUP_ZERO'
  | 'VDF_ABORTED';

/** Bad VDF input (wrong length, out of the group, bad T, mismatched checkpoints) or a cancelled run. */
export class VdfError extends CodedError<VdfErrorCode> {}
