/** The filter language's text box: key completion, Enter applies, the server's 400 shown with its caret. */
import { useEffect, useMemo, useRef, useState } from "react";
import { ApiError } from "../lib/api";
import { wordAt } from "../lib/columns";

export function caretLine(text: string, position: number): string {
  return " ".repeat(Math.max(0, Math.min(position, text.length))) + "^";
}

export function FilterError({ error }: { error: ApiError | null }) {
  if (!error) return null;
  const text = error.text ?? null;
  return (
    <div className="filter-error" role="alert" data-testid="filter-error">
      {error.field ? `${error.field}: ` : ""}
      {error.message}
      {text !== null && error.position !== null ? (
        <>
          {"\n  "}
          {text}
          {"\n  "}
          {caretLine(text, error.position)}
        </>
      ) : null}
    </div>
  );
}

export function FilterBox({
  value,
  onApply,
  fields,
  error,
  placeholder,
}: {
  value: string;
  onApply: (text: string) => void;
  fields: string[];
  error: ApiError | null;
  placeholder?: string;
}) {
  const [draft, setDraft] = useState(value);
  const [caret, setCaret] = useState(0);
  const [open, setOpen] = useState(false);
  const [sel, setSel] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => setDraft(value), [value]);
  const { start, word } = wordAt(draft, caret);
  const matches = useMemo(() => {
    if (!word) return [];
    const w = word.toLowerCase();
    return fields.filter((f) => f.toLowerCase().includes(w) && f !== word).slice(0, 40);
  }, [fields, word]);
  const show = open && matches.length > 0;
  const accept = (field: string) => {
    const next = draft.slice(0, start) + field + " " + draft.slice(caret);
    setDraft(next);
    setOpen(false);
    const pos = start + field.length + 1;
    requestAnimationFrame(() => {
      input.current?.focus();
      input.current?.setSelectionRange(pos, pos);
      setCaret(pos);
    });
  };
  return (
    <div className={`filter-box ${error ? "invalid" : ""}`}>
      <input
        ref={input}
        aria-label="filter"
        spellCheck={false}
        value={draft}
        placeholder={placeholder ?? 'filter, e.g. metrics.val/acc >= 0.9 and params.optimizer = "adam"'}
        onChange={(e) => {
          setDraft(e.target.value);
          setCaret(e.target.selectionStart ?? e.target.value.length);
          setOpen(true);
          setSel(0);
        }}
        onKeyUp={(e) => setCaret((e.target as HTMLInputElement).selectionStart ?? 0)}
        onClick={(e) => setCaret((e.target as HTMLInputElement).selectionStart ?? 0)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (show && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
            e.preventDefault();
            setSel((s) => (s + (e.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length);
          } else if (show && e.key === "Tab") {
            e.preventDefault();
            accept(matches[sel]);
          } else if (e.key === "Enter") {
            e.preventDefault();
            if (show && sel > 0) accept(matches[sel]);
            else {
              setOpen(false);
              onApply(draft.trim());
            }
          } else if (e.key === "Escape") setOpen(false);
        }}
      />
      {show ? (
        <div className="completions" role="listbox">
          {matches.map((m, i) => (
            <div
              key={m}
              role="option"
              aria-selected={i === sel}
              className={i === sel ? "sel" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(m);
              }}
            >
              {m}
            </div>
          ))}
        </div>
      ) : null}
      <FilterError error={error} />
    </div>
  );
}
