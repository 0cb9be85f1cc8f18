/** Stakeholder reports: the API's shapes, and the panel directives of a markdown source read for the editor's preview. */

export interface ReportDefinition {
  project: string;
  name: string;
  title: string;
  version: number;
  created_at: number;
  created_by: string | null;
  updated_at: number;
  updated_by: string | null;
  blocks: { type: string; text?: string; options?: Record<string, string> }[];
  source: string;
}

export interface MarkdownBlock {
  type: "markdown";
  text: string;
  html?: string;
}

export interface PanelBlock {
  type: string;
  options: Record<string, string>;
  title: string;
  status: "ok" | "hidden" | "error";
  message?: string;
  data?: Record<string, unknown>;
}

export type EvaluatedBlock = MarkdownBlock | PanelBlock;

export interface EvaluatedReport extends Omit<ReportDefinition, "blocks"> {
  blocks: EvaluatedBlock[];
  evaluated_at: number;
}

export const PANEL_TYPES = ["runs", "metrics", "compare", "samples", "model", "monitor"];

export interface Directive {
  line: number;
  type: string;
  options: Record<string, string>;
  problem?: string;
}

/** The ```mltrail-panel blocks of a source, as the server reads them (it checks more when saving). */
export function parseDirectives(source: string): Directive[] {
  const lines = source.replace(/\r\n/g, "\n").split("\n");
  const found: Directive[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,}|~{3,})\s*mltrail-panel\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    const options: Record<string, string> = {};
    let problem: string | undefined;
    i++;
    while (i < lines.length && lines[i].trim() !== open[1]) {
      const line = lines[i];
      if (line.trim() && !line.trimStart().startsWith("#")) {
        const kv = /^\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$/.exec(line);
        if (kv) options[kv[1].toLowerCase()] = kv[2];
        else problem ??= `line ${i + 1}: a panel line is \`key: value\``;
      }
      i++;
    }
    if (i >= lines.length) problem ??= `line ${start}: never closed`;
    const type = options.type ?? "";
    delete options.type;
    if (!PANEL_TYPES.includes(type)) problem ??= `line ${start}: type must be one of ${PANEL_TYPES.join(", ")}`;
    found.push({ line: start, type, options, problem });
  }
  return found;
}
