import type { SnowballParams } from '../../params/chain-params.js';
import { CodedError } from '../../util/coded-error.js';

export type { SnowballParams } from '../../params/chain-params.js';

/**
 * Largest k accepted. Vote tallies are kept in Uint16Array slots and a poll's sample is a list of k
 * draws; 1,024 is far above any sensible k (avalanchego uses 20) and keeps every tally exact.
 */
export const MAX_K = 1_024;

export class SnowballParamsError extends CodedError<'SNOWBALL_PARAMS_INVALID'> {}

/**
 * Checks the Snowball parameters, avalanchego `Parameters.Verify` style: one guard per inequality,
 * the error quotes the rule and the values. The rules:
 * - k, alphaPreference, alphaConfidence, beta are integers;
 * - 1 <= k <= MAX_K: a poll samples k validators with replacement;
 * - k/2 < alphaPreference: two members of one conflict set can never both gain a success from
 *   honest votes, because an honest voter says yes to at most one member;
 * - alphaPreference <= alphaConfidence: a poll that counts for confidence also counts for the
 *   preference, so the finalized member is always one the poll also moved the preference towards;
 * - alphaConfidence <= k: otherwise no poll could ever raise confidence;
 * - beta >= 1: finalization needs at least one poll reaching alphaConfidence.
 */
export function verifySnowballParams(p: SnowballParams): void {
  const fail = (rule: string, values: Record<string, number>): never => {
    const shown = Object.entries(values)
      .map(([name, v]) => `${name} = ${v}`)
      .join(', ');
    throw new SnowballParamsError('SNOWBALL_PARAMS_INVALID', `${shown}: fails the condition that: ${rule}`, {
      rule,
      ...values,
    });
  };
  const { k, alphaPreference, alphaConfidence, beta } = p;
  if (!Number.isInteger(k)) fail('k is an integer', { k });
  if (!Number.isInteger(alphaPreference)) fail('alphaPreference is an integer', { alphaPreference });
  if (!Number.isInteger(alphaConfidence)) fail('alphaConfidence is an integer', { alphaConfidence });
  if (!Number.isInteger(beta)) fail('beta is an integer', { beta });
  if (k < 1) fail('0 < k', { k });
  if (k > MAX_K) fail(`k <= ${MAX_K}`, { k });
  if (!(2 * alphaPreference > k)) fail('k/2 < alphaPreference', { k, alphaPreference });
  if (alphaConfidence < alphaPreference)
    fail('alphaPreference <= alphaConfidence', { alphaPreference, alphaConfidence });
  if (alphaConfidence > k) fail('alphaConfidence <= k', { k, alphaConfidence });
  if (beta < 1) fail('0 < beta', { beta });
}
