// The memory shared with JavaScript, in one place. Fixed working areas of each algorithm are
// static (`memory.data` in their own files) and never seen by JS; JS sees only the I/O region
// below: it asks for a size, gets an offset, writes inputs there with one TypedArray.set, calls
// an export with offsets into it and reads outputs back. No per-call allocation: the region only
// grows (doubling), so after warm-up every call reuses it. Growing may replace memory.buffer, so
// JS re-creates its views after every ioReserve that returned a different offset or capacity.

let ioPtr: usize = 0;
let ioCap: usize = 0;

/** Returns the start of an I/O region of at least `size` bytes (contents not preserved on growth). */
export function ioReserve(size: usize): usize {
  if (size > ioCap) {
    let cap = max<usize>(ioCap << 1, 64 * 1024);
    while (cap < size) cap <<= 1;
    ioPtr = heap.alloc(cap);
    ioCap = cap;
  }
  return ioPtr;
}

/** The current capacity of the I/O region. */
export function ioCapacity(): usize {
  return ioCap;
}
