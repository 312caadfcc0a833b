import { Admission, admit, resolvePriority, parsePriorityHeader, isSheddable } from "./admission";

describe("admission", () => {
  it("sheds sheddable requests only while the pool is saturated", () => {
    expect(admit(-1, true, 1, false)).toBe(Admission.Shed);
    expect(admit(-1, false, 1, false)).toBe(Admission.Route);
    expect(admit(0, true, 1, false)).toBe(Admission.Route);
    expect(admit(0, false, 0, false)).toBe(Admission.Unavailable);
    expect(admit(0, false, 0, true)).toBe(Admission.PassThrough);
    expect(admit(-5, true, 0, true)).toBe(Admission.Shed);
    expect(isSheddable(0)).toBe(false);
  });

  it("only trusted callers may set priority by header", () => {
    expect(resolvePriority(0, "-1", false)).toBe(0);
    expect(resolvePriority(0, "-1", true)).toBe(-1);
    expect(resolvePriority(-1, "10", true)).toBe(10);
    expect(resolvePriority(3, null, true)).toBe(3);
    expect(resolvePriority(3, "abc", true)).toBe(3);
    expect(parsePriorityHeader(" 7 ")).toBe(7);
    expect(parsePriorityHeader("1234567")).toBe(i32.MIN_VALUE);
    expect(parsePriorityHeader("-")).toBe(i32.MIN_VALUE);
  });
});
