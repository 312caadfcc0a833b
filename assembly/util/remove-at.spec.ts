import { removeAt } from "./remove-at";

// Against Array#splice(i, 1) on the same arrays.

class Item {
  constructor(public n: i32) {}
}

function names(a: string[]): string {
  return a.join(",");
}

describe("removeAt", () => {
  it("leaves what splice(i, 1) leaves, for every position", () => {
    for (let len = 1; len <= 6; len++) {
      for (let i = 0; i < len; i++) {
        let a: string[] = [];
        let b: string[] = [];
        let x: Item[] = [];
        let y: Item[] = [];
        for (let k = 0; k < len; k++) {
          a.push("s" + k.toString());
          b.push("s" + k.toString());
          x.push(new Item(k));
          y.push(new Item(k));
        }
        removeAt(a, i);
        b.splice(i, 1);
        expect(names(a)).toBe(names(b));
        removeAt(x, i);
        y.splice(i, 1);
        expect(x.length).toBe(y.length);
        for (let k = 0; k < x.length; k++) expect(x[k].n).toBe(y[k].n);
      }
    }
  });

  it("keeps working after removals (push, remove the last, empty)", () => {
    let a: string[] = ["a", "b", "c"];
    removeAt(a, 2);
    a.push("d");
    removeAt(a, 0);
    expect(names(a)).toBe("b,d");
    removeAt(a, 1);
    removeAt(a, 0);
    expect(a.length).toBe(0);
    a.push("e");
    expect(names(a)).toBe("e");
  });
});
