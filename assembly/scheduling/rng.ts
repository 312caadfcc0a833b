// xorshift64* random source: deterministic from a seed (tests), cheap, no allocation.
export class Rng {
  private state: u64;

  constructor(seed: u64 = 0x9e3779b97f4a7c15) {
    this.state = seed == 0 ? 0x9e3779b97f4a7c15 : seed;
  }

  reseed(seed: u64): void {
    this.state = seed == 0 ? 0x9e3779b97f4a7c15 : seed;
  }

  nextU64(): u64 {
    let x = this.state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    this.state = x;
    return x * 0x2545f4914f6cdd1d;
  }

  /** Uniform in [0, 1). */
  nextF64(): f64 {
    return <f64>(this.nextU64() >> 11) * (1.0 / 9007199254740992.0);
  }

  /** Uniform in [0, n); 0 when n <= 0. */
  nextInt(n: i32): i32 {
    if (n <= 0) return 0;
    return <i32>(this.nextU64() % <u64>n);
  }
}
