import { checkAddress } from "./address";

class Case {
  constructor(public input: string, public ok: bool) {}
}

const cases: Case[] = [
  new Case("10.0.0.1:8000", true),
  new Case("127.0.0.1:1", true),
  new Case("255.255.255.255:65535", true),
  new Case("[::1]:8000", true),
  new Case("[::]:80", true),
  new Case("[2001:db8::a:1]:8000", true),
  new Case("[fe80:0:0:0:0:0:0:1]:443", true),
  new Case("[::ffff:10.0.0.1]:8000", true),
  new Case("", false),
  new Case("10.0.0.1", false),
  new Case("10.0.0.1:", false),
  new Case("10.0.0.1:0", false),
  new Case("10.0.0.1:65536", false),
  new Case("10.0.0.1:080", false),
  new Case("10.0.0.256:80", false),
  new Case("10.0.0:80", false),
  new Case("10.0.0.1.2:80", false),
  new Case("010.0.0.1:80", false),
  new Case("10.0.0.1.:80", false),
  new Case("host.example:80", false),
  new Case("::1:8000", false),
  new Case("[::1:8000", false),
  new Case("[1:2:3:4:5:6:7:8:9]:80", false),
  new Case("[1::2::3]:80", false),
  new Case("[12345::1]:80", false),
  new Case("[fe80::1%eth0]:80", false),
  new Case("10.0.0.1:80x", false),
  new Case("10.0.0.1:8000,10.0.0.2:8000", false),
];

describe("checkAddress", () => {
  it("accepts IPv4 and bracketed IPv6 ip:port and refuses everything else", () => {
    for (let i = 0; i < cases.length; i++) {
      let c = cases[i];
      let r = checkAddress(c.input);
      expect(r.ok).toBe(c.ok, c.input);
      if (!c.ok) expect(r.error.length).toBeGreaterThan(0, c.input);
    }
  });
});
