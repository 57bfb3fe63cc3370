// rng.mjs - small deterministic PRNG (sfc32 seeded through splitmix32) for test data.
export class Rng {
  constructor(...seedParts) {
    let h = 0x9e3779b9;
    const mix = (x) => {
      x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
      x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
      return (x ^ (x >>> 16)) >>> 0;
    };
    for (const p of seedParts) {
      const s = String(p);
      for (let i = 0; i < s.length; i++) h = mix(h ^ s.charCodeAt(i)) + 0x6d2b79f5;
      h = mix(h + 0x27d4eb2f);
    }
    this.a = mix(h + 1); this.b = mix(h + 2); this.c = mix(h + 3); this.d = mix(h + 4) | 1;
    for (let i = 0; i < 16; i++) this.u32();
  }
  u32() {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  // uniform double in [0, 1) with 53 random bits
  next() {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }
  int(n) { return Math.floor(this.next() * n); }
  range(lo, hi) { return lo + this.int(hi - lo); }
  pick(arr) { return arr[this.int(arr.length)]; }
  normal() {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  uuid4() {
    const h = () => this.u32().toString(16).padStart(8, '0');
    const s = h() + h() + h() + h();
    const v = ((parseInt(s[16], 16) & 3) | 8).toString(16);
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-${v}${s.slice(17, 20)}-${s.slice(20, 32)}`;
  }
}
