/** The buffers after their first `count` bytes: what is left to write after a short write(v). */
export function dropBytes(buffers: Buffer[], count: number): Buffer[] {
  const rest: Buffer[] = [];
  for (const buffer of buffers) {
    if (count >= buffer.length) {
      count -= buffer.length;
    } else {
      rest.push(buffer.subarray(count));
      count = 0;
    }
  }
  return rest;
}
