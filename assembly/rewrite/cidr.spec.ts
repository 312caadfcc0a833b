import { Cidr, parseIp, ipFromAddress } from "./cidr";

const ip = new StaticArray<u8>(16);

function inRange(cidr: string, address: string): bool {
  const c = Cidr.parse(cidr);
  expect(c).not.toBeNull(cidr);
  const fam = ipFromAddress(address, ip);
  return fam != 0 && c!.contains(fam, ip);
}

describe("cidr", () => {
  it("parses IPv4 and IPv6", () => {
    expect(parseIp("10.1.2.3", ip)).toBe(4);
    expect(ip[0]).toBe(10);
    expect(ip[3]).toBe(3);
    expect(parseIp("::1", ip)).toBe(6);
    expect(ip[15]).toBe(1);
    expect(parseIp("fd00:1:2::abcd", ip)).toBe(6);
    expect(ip[0]).toBe(0xfd);
    expect(ip[14]).toBe(0xab);
    expect(parseIp("::", ip)).toBe(6);
    expect(parseIp("1:2:3:4:5:6:7:8", ip)).toBe(6);
    expect(parseIp("::ffff:10.0.0.1", ip)).toBe(4);
    expect(ip[0]).toBe(10);
    expect(parseIp("64:ff9b::1.2.3.4", ip)).toBe(6);
  });
  it("refuses malformed addresses", () => {
    expect(parseIp("", ip)).toBe(0);
    expect(parseIp("1.2.3", ip)).toBe(0);
    expect(parseIp("1.2.3.256", ip)).toBe(0);
    expect(parseIp("01.2.3.4", ip)).toBe(0);
    expect(parseIp("1.2.3.4.5", ip)).toBe(0);
    expect(parseIp("1::2::3", ip)).toBe(0);
    expect(parseIp("1:2:3:4:5:6:7:8:9", ip)).toBe(0);
    expect(parseIp("12345::", ip)).toBe(0);
    expect(parseIp(":1", ip)).toBe(0);
    expect(parseIp("1:", ip)).toBe(0);
    expect(parseIp("g::1", ip)).toBe(0);
    expect(parseIp("fe80::1%eth0", ip)).toBe(0);
    expect(Cidr.parse("10.0.0.0/33")).toBeNull();
    expect(Cidr.parse("10.0.0.0/")).toBeNull();
    expect(Cidr.parse("::/129")).toBeNull();
    expect(Cidr.parse("nope/8")).toBeNull();
  });
  it("reads the prefix length: one to three digits, at most the family's bits", () => {
    const texts = ["10.0.0.0/8", "10.0.0.0/008", "10.0.0.0/32", "10.0.0.0/0", "10.0.0.0/0008", "10.0.0.0/8/9", "10.0.0.0/1a", "10.0.0.0/-1", "fd00::/128", "fd00::/129", "1.2.3.4"];
    const bits: i32[] = [8, 8, 32, 0, -1, -1, -1, -1, 128, -1, 32];
    for (let i = 0; i < texts.length; i++) {
      const c = Cidr.parse(texts[i]);
      expect(c == null ? -1 : c.bits).toBe(bits[i], texts[i]);
    }
  });
  it("reads Envoy address properties", () => {
    expect(ipFromAddress("10.0.0.7:43210", ip)).toBe(4);
    expect(ipFromAddress("[fd00::7]:8080", ip)).toBe(6);
    expect(ipFromAddress("fd00::7", ip)).toBe(6);
    expect(ipFromAddress("[fd00::7", ip)).toBe(0);
  });
  it("matches ranges", () => {
    expect(inRange("10.0.0.0/8", "10.200.3.4:1")).toBe(true);
    expect(inRange("10.0.0.0/8", "11.0.0.1:1")).toBe(false);
    expect(inRange("192.168.1.0/25", "192.168.1.127:5")).toBe(true);
    expect(inRange("192.168.1.0/25", "192.168.1.128:5")).toBe(false);
    expect(inRange("0.0.0.0/0", "8.8.8.8:53")).toBe(true);
    expect(inRange("fd00::/8", "[fd12::1]:80")).toBe(true);
    expect(inRange("fd00::/8", "[fe80::1]:80")).toBe(false);
    expect(inRange("2001:db8::/33", "[2001:db8:7fff::1]:1")).toBe(true);
    expect(inRange("2001:db8::/33", "[2001:db8:8000::1]:1")).toBe(false);
    expect(inRange("10.0.0.1", "10.0.0.1:9")).toBe(true);
    expect(inRange("10.0.0.0/8", "[::ffff:10.1.1.1]:9")).toBe(true);
    expect(inRange("fd00::/8", "10.0.0.1:1")).toBe(false);
  });
});
