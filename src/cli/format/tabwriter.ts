// A port of Go's text/tabwriter (the column algorithm docker's tables rely
// on): cells end at '\t', the last cell of a line is not part of a column,
// and a column block is a run of consecutive lines that have that column.

export interface TabwriterOptions {
  minwidth: number;
  tabwidth: number;
  padding: number;
  padchar: string;
}

/** docker's table settings: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
export const DOCKER_TABLE: TabwriterOptions = { minwidth: 10, tabwidth: 1, padding: 3, padchar: ' ' };

interface Cell {
  text: string;
  width: number;
}

/** Display width in runes (as Go counts utf8.RuneCountInString). */
const runeWidth = (s: string): number => [...s].length;

export function tabwrite(input: string, opts: TabwriterOptions = DOCKER_TABLE): string {
  const rawLines = input.split('\n');
  const trailingNewline = rawLines.length > 1 && rawLines[rawLines.length - 1] === '';
  if (trailingNewline) rawLines.pop();
  const lines: Cell[][] = rawLines.map((l) => l.split('\t').map((text) => ({ text, width: runeWidth(text) })));
  const widths: number[] = [];
  let out = '';

  const padding = (textWidth: number, cellWidth: number): string => {
    if (opts.padchar === '\t') {
      // Tabs: round the cell width up to a multiple of tabwidth.
      const tw = opts.tabwidth || 1;
      const n = Math.ceil((cellWidth - textWidth) / tw);
      return '\t'.repeat(Math.max(0, n));
    }
    return opts.padchar.repeat(Math.max(0, cellWidth - textWidth));
  };

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i] ?? [];
      line.forEach((cell, j) => {
        out += cell.text;
        if (j < widths.length && j < line.length - 1) out += padding(cell.width, widths[j] ?? 0);
      });
      if (i + 1 < lines.length || trailingNewline) out += '\n';
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let current = line0; current < line1; current++) {
      if (column >= (lines[current]?.length ?? 0) - 1) continue;
      writeLines(line0, current);
      line0 = current;
      let width = opts.minwidth;
      for (; current < line1; current++) {
        const line = lines[current] ?? [];
        if (column >= line.length - 1) break;
        const w = (line[column]?.width ?? 0) + opts.padding;
        if (w > width) width = w;
      }
      widths.push(width);
      format(line0, current);
      widths.pop();
      line0 = current;
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out;
}
