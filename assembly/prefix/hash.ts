// Prompt → chained block hashes, the EPP's approximate prefix-cache key (llm-d-router
// pkg/epp/framework/plugins/requestcontrol/dataproducer/approximateprefix/hashing.go): the
// prompt bytes are cut into blocks, block i's hash covers block i and hash i-1, and the seed is
// the model name's (plus the request's cache_salt), so two models or salts never share entries.
// The EPP's default `estimate` token producer packs 4 bytes into one token and its blocks are 64
// tokens, so a block is 256 bytes; the trailing partial block counts, zero-padded to a whole
// token (hashPromptBlocks). The older character-block form (hashPrompt) drops it.
// 64-bit FNV-1a with a splitmix64 finaliser: cheap, allocation-free and identical in every VM
// (the index is shared across workers by these values). Only equality matters, not the EPP's
// xxhash values: matches are counted per block, never compared across implementations.

const FNV_OFFSET: u64 = 0xcbf29ce484222325;
const FNV_PRIME: u64 = 0x100000001b3;

@inline
function mix(h: u64): u64 {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9;
  h ^= h >> 27;
  h *= 0x94d049bb133111eb;
  h ^= h >> 31;
  return h;
}

/** Hash of `s[from, to)` continuing from `seed`. */
export function hashChars(seed: u64, s: string, from: i32, to: i32): u64 {
  let h = FNV_OFFSET ^ seed;
  let p = changetype<usize>(s) + (<usize>from << 1);
  let end = changetype<usize>(s) + (<usize>to << 1);
  while (p < end) {
    let c = <u64>load<u16>(p);
    h = (h ^ (c & 0xff)) * FNV_PRIME;
    h = (h ^ (c >> 8)) * FNV_PRIME;
    p += 2;
  }
  return mix(h);
}

export function hashModel(model: string): u64 {
  return hashChars(0, model, 0, model.length);
}

/**
 * Writes the chained block hashes of `prompt` into `out` (block 1..n; the model seed is not
 * stored) and returns n. n is 0 for prompts shorter than one block; at most min(maxBlocks,
 * out.length) blocks are hashed, so cost is bounded whatever the prompt size.
 */
export function hashPrompt(model: string, prompt: string, blockChars: i32, maxBlocks: i32, out: StaticArray<u64>): i32 {
  if (blockChars <= 0) return 0;
  let limit = min(maxBlocks, out.length);
  let blocks = min(prompt.length / blockChars, limit);
  let prev = hashModel(model);
  for (let i = 0; i < blocks; i++) {
    let from = i * blockChars;
    prev = hashChars(prev, prompt, from, from + blockChars);
    unchecked((out[i] = prev));
  }
  return blocks;
}

/** Hash of bytes `[p, p+len)` continuing from `seed` (same mixing as hashChars). */
export function hashBytes(seed: u64, p: usize, len: i32): u64 {
  let h = FNV_OFFSET ^ seed;
  let end = p + <usize>len;
  while (p < end) {
    h = (h ^ <u64>load<u8>(p)) * FNV_PRIME;
    p++;
  }
  return mix(h);
}

/**
 * hashPrompt over UTF-8 bytes, as the proxy hands the body over (GIE also blocks bytes):
 * blocks of `blockSize` bytes, no decoding, no allocation.
 */
export function hashPromptBytes(model: string, base: usize, len: i32, blockSize: i32, maxBlocks: i32, out: StaticArray<u64>): i32 {
  if (blockSize <= 0 || len <= 0) return 0;
  let limit = min(maxBlocks, out.length);
  let blocks = min(len / blockSize, limit);
  let prev = hashModel(model);
  for (let i = 0; i < blocks; i++) {
    prev = hashBytes(prev, base + <usize>(i * blockSize), blockSize);
    unchecked((out[i] = prev));
  }
  return blocks;
}

/** Seed of a request's chains: the model name, then the cache salt bytes `[salt, salt+saltLen)`. */
export function hashSeed(model: string, salt: usize, saltLen: i32): u64 {
  let h = hashModel(model);
  return saltLen > 0 ? hashBytes(h, salt, saltLen) : h;
}

/**
 * One prompt's chained block hashes, appended to `out` from `at`: blocks of `blockBytes` bytes
 * of `[base, base+len)`; the last partial block counts, zero-padded to a multiple of 4 bytes
 * (the EPP's estimate producer packs 4 bytes per token). Stops at `maxBlocks` blocks or when
 * `out` is full. Returns the number of hashes written.
 */
export function hashPromptBlocks(seed: u64, base: usize, len: i32, blockBytes: i32, maxBlocks: i32, out: StaticArray<u64>, at: i32): i32 {
  if (blockBytes <= 0 || len <= 0 || at < 0) return 0;
  let limit = min(maxBlocks, out.length - at);
  let prev = seed;
  let n = 0;
  for (let from = 0; from < len && n < limit; from += blockBytes) {
    let size = min(blockBytes, len - from);
    let h = FNV_OFFSET ^ prev;
    let p = base + <usize>from;
    let end = p + <usize>size;
    while (p < end) {
      h = (h ^ <u64>load<u8>(p)) * FNV_PRIME;
      p++;
    }
    // Zero padding of a partial token, as the EPP's packBytes does.
    for (let pad = (4 - (size & 3)) & 3; pad > 0; pad--) h = h * FNV_PRIME;
    prev = mix(h);
    unchecked((out[at + n] = prev));
    n++;
  }
  return n;
}
