import { joinStrings } from "./text-join";

describe("joinStrings", () => {
  it("joins like Array#join, for any separator and empty pieces", () => {
    let cases: string[][] = [[], ["a"], ["a", "b"], ["", ""], ["10.0.0.1:80", "", "é€"], ["x", "y", "z", ""]];
    let seps = ["", "\n", ", "];
    for (let i = 0; i < cases.length; i++) {
      for (let j = 0; j < seps.length; j++) {
        expect(joinStrings(cases[i], seps[j])).toBe(cases[i].join(seps[j]));
      }
    }
    expect(joinStrings(["a", "bc", "d"], "\t")).toBe("a\tbc\td");
  });
});
