/** Random bytes, as the kernel's get_random_bytes() gives both sides of the test. */
export function fillRandom(into: Uint8Array): void {
  for (let i = 0; i < into.length; i++) into[i] = (Math.random() * 256) | 0;
}
