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
 * - 1 <= k <= MAX_K (integer): a poll samples k validators with replacement;
 * - k/2 < alpha: two members of one conflict set can never both reach alpha from honest votes,
 *   because an honest voter says yes to at most one member;
 * - alpha <= k: otherwise no poll could ever succeed;
 * - beta >= 1 (integer): finalization needs at least one successful poll.
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
  const { k, alpha, beta } = p;
  if (!Number.isInteger(k)) fail('k is an integer', { k });
  if (!Number.isInteger(alpha)) fail('alpha is an integer', { alpha });
  if (!Number.isInteger(beta)) fail('beta is an integer', { beta });
  if (k < 1) fail('0 < k', { k });
  if (k > MAX_K) fail(`k <= ${MAX_K}`, { k });
  if (!(2 * alpha > k)) fail('k/2 < alpha', { k, alpha });
  if (alpha > k) fail('alpha <= k', { k, alpha });
  if (beta < 1) fail('0 < beta', { beta });
}
