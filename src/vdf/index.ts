/** The VDF beacon's public surface (DESIGN §6): byte-level inline API, BigInt oracle, hashing. */

export { evaluateBigint, proveBigint, verifyBigint } from './bigint-vdf.js';
export { VdfError } from './errors.js';
export { hashToGroup } from './hash-to-group.js';
export { hashToPrime } from './hash-to-prime.js';
export { type ProofPlan, planProof } from './proof-plan.js';
export { RSA_2048 } from './rsa2048.js';
export { type VdfEvaluateOptions, type VdfOutput, vdfEvaluate, vdfProve, vdfVerify } from './vdf.js';
