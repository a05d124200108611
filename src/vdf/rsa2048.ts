/**
 * The RSA-2048 modulus of the RSA Factoring Challenge (RSA Laboratories, 1991): 617 decimal
 * digits, 2048 bits, factorization unknown — the group of unknown order the Wesolowski VDF needs.
 *
 * Provenance (not typed from memory): copied from public material and checked digit for digit
 * (all three agree on every one of the 617 digits):
 * - github.com/cambrian/accumulator `src/group/rsa.rs` @ e4cacb1043b96c9b78126fec81495a66b24c15d6
 *   (`RSA2048_MODULUS_DECIMAL`, itself citing en.wikipedia.org/wiki/RSA_numbers#RSA-2048);
 * - monochromatic-axonometric.blogspot.com/2013/05/rsa2048.html (the number in 50-digit groups);
 * - the Zerocoin/PIVX `ZEROCOIN_MODULUS` chain parameter (same decimal string).
 * test/unit/vdf/rsa2048.test.ts checks 617 digits, 2048 bits, odd, no prime factor below 10^5,
 * and the leading/trailing digits and hex form recorded in docs/protocol.md.
 */
export const RSA_2048_DECIMAL =
  '25195908475657893494027183240048398571429282126204032027777137836043662020707595556264018525880784' +
  '40691829064124951508218929855914917618450280848912007284499268739280728777673597141834727026189637' +
  '50149718246911650776133798590957000973304597488084284017974291006424586918171951187461215151726546' +
  '32282216869987549182422433637259085141865462043576798423387184774447920739934236584823824281198163' +
  '81501067481045166037730605620161967625613384414360383390441495263443219011465754445417842402092461' +
  '65157233507787077498171257724679629263863563732899121548314381678998850404453640235273819513786365' +
  '64391212010397122822120720357';

/** RSA-2048 as a bigint. */
export const RSA_2048: bigint = BigInt(RSA_2048_DECIMAL);

/** Group elements are encoded as this many big-endian bytes. */
export const ELEMENT_BYTES = 256;
