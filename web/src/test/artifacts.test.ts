import { parseCsv } from "../components/Artifacts";

describe("CSV preview", () => {
  it("splits rows and cells, with quotes, doubled quotes and CRLF", () => {
    expect(parseCsv('a,b,c\r\n1,"x, y",3\n2,"say ""hi""",\n')).toEqual([
      ["a", "b", "c"],
      ["1", "x, y", "3"],
      ["2", 'say "hi"', ""],
    ]);
  });

  it("keeps a last line without a newline and stops at the row limit", () => {
    expect(parseCsv("a\n1")).toEqual([["a"], ["1"]]);
    expect(parseCsv("a\n1\n2\n3\n", 2)).toEqual([["a"], ["1"]]);
  });
});
