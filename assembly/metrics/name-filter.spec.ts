import { encodeQueryValue, filteredPath } from "./name-filter";

describe("name filter query values", () => {
  it("keeps [A-Za-z0-9_.-] and percent-encodes every other code unit below 256 as %XX (upper case)", () => {
    for (let c = 0; c < 256; c++) {
      let plain = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95 || c == 45 || c == 46;
      let hi = c >> 4;
      let lo = c & 15;
      let want = plain ? String.fromCharCode(c) : "%" + String.fromCharCode(hi < 10 ? 48 + hi : 55 + hi) + String.fromCharCode(lo < 10 ? 48 + lo : 55 + lo);
      expect(encodeQueryValue(String.fromCharCode(c))).toBe(want);
    }
  });

  it("writes one name[]= parameter per name, after an existing query", () => {
    expect(filteredPath("/metrics", ["vllm:num_requests_waiting", "a b"])).toBe("/metrics?name%5B%5D=vllm%3Anum_requests_waiting&name%5B%5D=a%20b");
    expect(filteredPath("/metrics?x=1", ["n"])).toBe("/metrics?x=1&name%5B%5D=n");
    expect(filteredPath("/metrics", [])).toBe("/metrics");
  });
});
