import { fireEvent, render, screen } from "@testing-library/react";
import { ApiError } from "../lib/api";
import { FilterBox, caretLine } from "../components/FilterBox";
import { wordAt } from "../lib/columns";

const err = new ApiError(400, {
  type: "InvalidFilterError",
  message: "unknown field 'parms.lr' — did you mean 'params.lr'? at position 0",
  field: "filter",
  position: 13,
  text: "metrics.acc <",
});

describe("FilterBox", () => {
  it("shows the server's message with the filter and a caret under the position", () => {
    render(<FilterBox value="metrics.acc <" onApply={() => undefined} fields={[]} error={err} />);
    const box = screen.getByTestId("filter-error");
    expect(box.textContent).toContain("did you mean 'params.lr'?");
    const lines = box.textContent!.split("\n");
    expect(lines[1]).toBe("  metrics.acc <");
    expect(lines[2]).toBe("  " + " ".repeat(13) + "^");
    expect(screen.getByLabelText("filter").closest(".filter-box")).toHaveClass("invalid");
  });

  it("draws the caret at the position, clamped to the text", () => {
    expect(caretLine("abc", 0)).toBe("^");
    expect(caretLine("abc", 2)).toBe("  ^");
    expect(caretLine("abc", 99)).toBe("   ^");
  });

  it("shows no error when there is none and applies on Enter", () => {
    const onApply = vi.fn();
    render(<FilterBox value="" onApply={onApply} fields={["params.lr"]} error={null} />);
    expect(screen.queryByTestId("filter-error")).toBeNull();
    const input = screen.getByLabelText("filter");
    fireEvent.change(input, { target: { value: 'status = "failed" ' } });
    fireEvent.keyDown(input, { key: "Enter" });
    expect(onApply).toHaveBeenCalledWith('status = "failed"');
  });

  it("finds the word at the caret, leaving a grouping parenthesis out", () => {
    expect(wordAt("a = 1 and (params.l", 19)).toEqual({ start: 11, word: "params.l" });
    expect(wordAt("min(metrics.lo", 14)).toEqual({ start: 0, word: "min(metrics.lo" });
    expect(wordAt("x < 1", 5)).toEqual({ start: 4, word: "1" });
  });

  it("completes keys seen in the runs", () => {
    render(<FilterBox value="" onApply={() => undefined} fields={["params.lr", "metrics.val/acc", "min(metrics.val/acc)"]} error={null} />);
    const input = screen.getByLabelText("filter") as HTMLInputElement;
    fireEvent.change(input, { target: { value: "val/a", selectionStart: 5 } });
    const options = screen.getAllByRole("option").map((o) => o.textContent);
    expect(options).toEqual(["metrics.val/acc", "min(metrics.val/acc)"]);
    fireEvent.keyDown(input, { key: "Tab" });
    expect(input.value).toBe("metrics.val/acc ");
  });
});
