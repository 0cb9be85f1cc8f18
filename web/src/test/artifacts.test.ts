import { parseCsv, previewKind } from "../components/Artifacts";

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

describe("preview kind", () => {
  it("follows the server's content type, and the extension when it names none", () => {
    expect(previewKind({ path: "plot", content_type: "image/png" })).toBe("image");
    expect(previewKind({ path: "a.json", content_type: "application/json" })).toBe("json");
    expect(previewKind({ path: "t.csv", content_type: "text/csv" })).toBe("csv");
    expect(previewKind({ path: "c.yaml", content_type: "application/yaml" })).toBe("text");
    expect(previewKind({ path: "w.bin", content_type: "application/octet-stream" })).toBe("binary");
    expect(previewKind({ path: "x.ts", content_type: "video/mp2t" })).toBe("text"); // TypeScript, by its extension
    expect(previewKind({ path: "old.csv" })).toBe("csv");
  });
});
