import { lastIndexOfChar } from "./last-index-of-char";

// Against String#lastIndexOf on the same inputs.

const TEXTS: string[] = ["", ":", "::", "a", "10.0.0.1:8000", "[::1]:80", "[fe80::1]", "host", ":8000", "a:b:c:", "é:ü", "\u{1F600}:x"];

describe("lastIndexOfChar", () => {
  it("finds what lastIndexOf finds for one character", () => {
    let chars: string[] = [":", "]", "a", "x", "é", "\u{1F600}".charAt(1)];
    for (let i = 0; i < TEXTS.length; i++) {
      for (let k = 0; k < chars.length; k++) {
        expect(lastIndexOfChar(TEXTS[i], chars[k].charCodeAt(0))).toBe(TEXTS[i].lastIndexOf(chars[k]), TEXTS[i] + " / " + chars[k]);
      }
    }
  });
});
