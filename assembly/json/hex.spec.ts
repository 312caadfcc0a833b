import { hexByte } from "./hex";

describe("hexByte", () => {
  it("writes two lower-case digits, as toString(16) padded to two", () => {
    const cases: u32[] = [0, 1, 9, 10, 15, 16, 0x1f, 0x7f, 0xa0, 0xff];
    const want: string[] = ["00", "01", "09", "0a", "0f", "10", "1f", "7f", "a0", "ff"];
    for (let i = 0; i < cases.length; i++) {
      expect(hexByte(cases[i])).toBe(want[i]);
      expect(hexByte(cases[i])).toBe((cases[i] < 16 ? "0" : "") + cases[i].toString(16));
    }
  });

  it("agrees with toString(16) on every byte", () => {
    for (let b: u32 = 0; b < 256; b++) expect(hexByte(b)).toBe((b < 16 ? "0" : "") + b.toString(16));
  });
});
